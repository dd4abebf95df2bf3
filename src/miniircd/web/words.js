// Server refusals in plain sentences, for people who have never seen IRC. Every error
// numeric and FAIL code the server can send for what the page does has a sentence here;
// anything else falls back to the server's own words, never to a bare number.

// numeric -> sentence; {0}, {1}: the numeric's parameters after our nick.
const NUMERICS = {
  263: "The server is busy. Try again in a moment.",
  400: "The server could not handle that request.",
  401: "There is no one and no room called {0}.",
  403: "There is no room called {0}.",
  404: "Your message could not be sent to {0}: you are not in the room, you are banned, or only some people may talk there.",
  405: "You are in too many rooms already. Leave one first.",
  407: "Too many recipients at once.",
  411: "Choose who should get the message.",
  412: "The message is empty.",
  417: "That message is too long.",
  421: "The server does not know how to do that.",
  431: "Choose a name first.",
  432: "{0} cannot be used as a name here.",
  433: "The name {0} is already in use.",
  441: "{0} is not in {1}.",
  442: "You are not in {0}.",
  443: "{0} is already in {1}.",
  451: "The connection is not ready yet. Wait a moment.",
  461: "Something is missing from that request.",
  462: "You cannot do that again on this connection.",
  464: "The server password is wrong.",
  465: "You are banned from this server.",
  471: "{0} is full.",
  473: "{0} is invite-only: someone in it has to invite you.",
  474: "You are banned from {0}.",
  475: "{0} is protected by a password (a room key).",
  476: "{0} is not a valid room name.",
  477: "You must log in to join {0}.",
  482: "Only the room's moderators can do that in {0}.",
  902: "That account cannot be used right now.",
  904: "Wrong user name or password.",
  905: "The user name or password is too long.",
  906: "Logging in was cancelled.",
  907: "You are already logged in.",
  908: "The server does not accept this way of logging in.",
};

// FAIL code -> sentence; {0}: the first context parameter (account name, target...).
const FAILS = {
  ACCOUNT_EXISTS: "The user name {0} is already taken. Pick another one.",
  USERNAME_EXISTS: "Someone is using the name {0} right now. Pick another one.",
  ACCOUNT_NAME_MUST_BE_NICK: "The user name must be the name you use in the chat.",
  ACCOUNT_REQUIRED: "You must log in first.",
  ALREADY_AUTHENTICATED: "You are already logged in.",
  BAD_ACCOUNT_NAME: "{0} cannot be a user name: use letters, digits and - _ [ ] { } \\ | ^ `, not starting with a digit or -.",
  COMPLETE_CONNECTION_REQUIRED: "Connect first, then create the account.",
  INBOX_FULL: "The inbox of {0} is full; your message was not delivered. Try again later.",
  INVALID_EMAIL: "That email address is not valid.",
  INVALID_TARGET: "The messages of {1} could not be loaded.",
  MESSAGE_ERROR: "Those earlier messages could not be found.",
  NEED_NICK: "Choose a name first.",
  TEMPORARILY_UNAVAILABLE: "That is not possible right now. Try again later.",
  UNACCEPTABLE_PASSWORD: "That password is not accepted. Pick another one.",
  WEAK_PASSWORD: "The password is too weak: {text}.",
  INVALID_UTF8: "The message contained characters the server refuses.",
};

function fill(template, args, text) {
  return template
    .replace(/\{(\d)\}/g, (_, i) => (args[Number(i)] && args[Number(i)] !== "*" ? args[Number(i)] : "it"))
    .replace("{text}", (text || "").replace(/\.$/, "").replace(/^Passwords/, "passwords"));
}

/** Whether a numeric is a refusal the person should hear about. */
export function isErrorNumeric(verb) {
  if (!/^\d{3}$/.test(verb)) return false;
  const n = Number(verb);
  return (n >= 400 && n < 600) || (n >= 902 && n <= 908 && n !== 903);
}

/** A sentence for an error numeric; `args` are its parameters after our nick. */
export function describeNumeric(verb, args) {
  const text = args.length ? args[args.length - 1] : "";
  const template = NUMERICS[Number(verb)];
  if (!template) return text ? `The server refused: ${text}.` : "The server refused that.";
  return fill(template, args.slice(0, -1), text);
}

/** A sentence for `FAIL <command> <code> [context...] :<description>`. */
export function describeFail(command, code, context, description) {
  const template = FAILS[code];
  if (!template) return description ? `${description.replace(/\.$/, "")}.` : `That did not work (${code}).`;
  return fill(template, context, description);
}

/** A sentence for any refusal line (numeric or FAIL), or null if it is not one. */
export function describeRefusal(msg) {
  if (msg.verb === "FAIL" && msg.params.length >= 3) {
    const [command, code, ...rest] = msg.params;
    return describeFail(command, code, rest.slice(0, -1), rest[rest.length - 1]);
  }
  if (isErrorNumeric(msg.verb)) return describeNumeric(msg.verb, msg.params.slice(1));
  return null;
}
