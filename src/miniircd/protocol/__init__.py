"""The pure IRC codec: messages, line framing, numerics, casemapping, ISUPPORT. No I/O."""
