"""The help texts HELP and HELPOP answer with: one entry per verb of the command table.

`TEXTS[verb]` is the syntax line (sent as the title, in `704`) followed by a few lines
saying what the command does on this server. `tests/core/test_help.py` fails if a verb of
`core.dispatch.COMMANDS` has no entry or an entry names no command, so a new command
comes with its help. `INDEX` is the answer to a HELP without a subject.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, ...]] = {
    "CAP": (
        "CAP <subcommand> [:<capabilities>]",
        "IRCv3 capability negotiation: CAP LS [302] lists the capabilities, CAP LIST",
        "the enabled ones, CAP REQ :<cap> [-<cap>] enables or disables them (all or",
        "none), CAP END ends negotiation and lets registration complete.",
    ),
    "PASS": (
        "PASS <password>",
        "Before registration: the server password. On a server without one, a login",
        "instead: PASS <account>:<password>, or PASS <password> for the account named",
        "like your nick.",
    ),
    "NICK": (
        "NICK <nickname>",
        "Sets or changes your nick (at most NICKLEN characters).",
    ),
    "USER": (
        "USER <username> <mode> <unused> :<realname>",
        "Sets your user name and real name while connecting; <mode> and <unused> are",
        "ignored.",
    ),
    "PING": (
        "PING <token>",
        "The server answers PONG with the same token.",
    ),
    "PONG": (
        "PONG [<server>] <token>",
        "Answers the server's PING; it gets no reply.",
    ),
    "QUIT": (
        "QUIT [:<reason>]",
        "Disconnects; whoever shares a channel with you sees the reason.",
    ),
    "SETNAME": (
        "SETNAME :<realname>",
        "Changes your real name (IRCv3 setname; at most NAMELEN characters).",
    ),
    "AUTHENTICATE": (
        "AUTHENTICATE PLAIN | SCRAM-SHA-256 | <base64 chunk> | + | *",
        "SASL login with PLAIN or SCRAM-SHA-256 (the password never crosses the wire),",
        "in chunks of 400 characters; AUTHENTICATE * aborts. SCRAM needs one PLAIN",
        "login first for accounts made before it was offered.",
    ),
    "REGISTER": (
        "REGISTER <account> {<email> | *} <password>",
        "Creates an account and logs you in to it; * as the account means your nick.",
        "The email is optional (* for none) and never mailed.",
    ),
    "JOIN": (
        "JOIN <channel>{,<channel>} [<key>{,<key>}]  |  JOIN 0",
        "Joins channels; one that does not exist is created with you as its operator",
        "(a registered room if you are logged in). JOIN 0 leaves every channel.",
    ),
    "PART": (
        "PART <channel>{,<channel>} [<reason>]",
        "Leaves channels.",
    ),
    "TOPIC": (
        "TOPIC <channel> [<topic>]",
        "Shows a channel's topic, or sets it (under +t only channel operators may);",
        "an empty topic clears it.",
    ),
    "NAMES": (
        "NAMES [<channel>{,<channel>}]",
        "Lists the members of channels, or of every channel you can see.",
    ),
    "LIST": (
        "LIST [<channel | mask | condition>{,...}]",
        "Lists channels with their member count and topic; secret ones only to their",
        "members. Conditions: >n / <n members, C>n / C<n minutes since creation,",
        "T>n / T<n minutes since the topic was set, !mask to leave names out.",
    ),
    "KICK": (
        "KICK <channel> <nick>{,<nick>} [<comment>]",
        "Channel operators only: removes users from the channel, one by one (at most",
        "TARGMAX KICK nicks).",
    ),
    "INVITE": (
        "INVITE <nick> <channel>  |  INVITE",
        "Invites a user to a channel you are in; the invitation lets it past +i, +l and",
        "bans once. Under +i only channel operators may invite. Without parameters,",
        "lists the channels you are invited to.",
    ),
    "PRIVMSG": (
        "PRIVMSG <target>{,<target>} :<text>",
        "Sends a message to channels, nicks or account names (at most TARGMAX targets).",
        "To an account with nobody logged in, it waits in the account's inbox.",
        "@#channel reaches only its operators, +#channel its voiced members and ops.",
    ),
    "NOTICE": (
        "NOTICE <target>{,<target>} :<text>",
        "Like PRIVMSG, but never answered with an error or an automatic reply.",
    ),
    "TAGMSG": (
        "TAGMSG <target>{,<target>}",
        "Sends only client-only tags (such as +typing) to targets that have the",
        "message-tags capability; nothing is stored.",
    ),
    "HISTORY": (
        "HISTORY <target> [<count>]",
        "Replays the latest messages of a channel, or of your private conversation",
        "with a user (default 50, at most CHATHISTORY).",
    ),
    "CHATHISTORY": (
        "CHATHISTORY <subcommand> <target> <reference> [<reference>] <limit>",
        "IRCv3 draft/chathistory: LATEST, BEFORE, AFTER, AROUND or BETWEEN a msgid= or",
        "timestamp= reference, or TARGETS: the conversations active between two times.",
    ),
    "MARKREAD": (
        "MARKREAD <target> [timestamp=<time>]",
        "IRCv3 draft/read-marker: shows or moves forward your read marker for a",
        "channel or a private conversation.",
    ),
    "MONITOR": (
        "MONITOR {+ | -} <nick>{,<nick>}  |  MONITOR {C | L | S}",
        "Tells you when the nicks on your list come online or go offline: + adds,",
        "- removes, C clears, L lists, S shows which are online (at most MONITOR nicks).",
    ),
    "INBOX": (
        "INBOX [<count>]",
        "Logged-in users: replays the latest private messages to your account",
        "(default 20, at most CHATHISTORY).",
    ),
    "MODE": (
        "MODE <target> [<modestring> [<mode arguments>...]]",
        "Shows or changes your own user modes: B bot, i invisible, w receive WALLOPS,",
        "-o stop being an operator. Or a channel's modes: b e I (ban, exception and",
        "invite lists; $a:<account>, $a and $m:<mask> extbans), C k l i m n s t o v;",
        "changes need channel operator status.",
    ),
    "OPER": (
        "OPER <name> <password>",
        "Makes you an IRC operator (user mode +o), with a name and password from the",
        "server's configuration.",
    ),
    "KILL": (
        "KILL <nick> <comment>",
        "Operators only: disconnects a user.",
    ),
    "REHASH": (
        "REHASH",
        "Operators only: rereads the configuration file.",
    ),
    "CONNECT": (
        "CONNECT <server> [<port> [<remote server>]]",
        "Operators only: dials the server of a [[links]] block now, even one not set to",
        "connect by itself, at its host and port (or the port given). With a remote",
        "server, that server is asked to dial.",
    ),
    "SQUIT": (
        "SQUIT <server> :<comment>",
        "Operators only: closes the link with a server, and splits off every user and",
        "server behind it. A server further away is asked of the server it links to.",
    ),
    "WHO": (
        "WHO <mask> [o][%<fields>[,<token>]]",
        "Lists the members of a channel, or the users matching a mask; o keeps the",
        "operators only, %<fields> (WHOX) answers one 354 per user with those fields.",
    ),
    "WHOIS": (
        "WHOIS [<server>] <nick>",
        "Shows a user's user name, host, real name, channels, account and idle time.",
        "With a server (or the nick again) first, that server answers: the only way to",
        "see the idle time of a user on another server.",
    ),
    "WHOWAS": (
        "WHOWAS <nick> [<count>]",
        "Shows who last used a nick that is no longer in use, newest first.",
    ),
    "ISON": (
        "ISON <nick>{ <nick>}",
        "Tells which of the nicks are online.",
    ),
    "USERHOST": (
        "USERHOST <nick>{ <nick>}",
        "Shows user@host of up to 5 nicks, with * for an operator and - when away.",
    ),
    "AWAY": (
        "AWAY [:<text>]",
        "Marks you away with a message; without one, back.",
    ),
    "MOTD": (
        "MOTD [<server>]",
        "Shows the message of the day.",
    ),
    "LUSERS": (
        "LUSERS",
        "Counts users, operators, connections still registering and channels.",
    ),
    "VERSION": (
        "VERSION [<server>]",
        "Shows the server's version and its ISUPPORT (005) tokens.",
    ),
    "TIME": (
        "TIME [<server>]",
        "Shows the server's time, in UTC.",
    ),
    "INFO": (
        "INFO [<server>]",
        "Describes the server: its version, what it is and since when it runs.",
    ),
    "HELP": (
        "HELP [<subject>]",
        "Lists the commands, or explains the command named. HELPOP is the same.",
    ),
    "HELPOP": (
        "HELPOP [<subject>]",
        "The same as HELP.",
    ),
    "LINKS": (
        "LINKS [[<server>] <mask>]",
        "Lists the servers of the network whose name matches the mask (all without",
        "one), each with the server it is linked through and its distance in hops.",
        "With a server first, that server is asked.",
    ),
    "MAP": (
        "MAP",
        "Shows the servers of the network as a tree, each with its number of users.",
    ),
    "RENAME": (
        "RENAME <channel> <new name> [:<reason>]",
        "Channel operators only: gives the channel a new name. Members, modes, topic,",
        "bans, registration and history move with it; clients without the",
        "draft/channel-rename capability see a PART and a JOIN.",
    ),
    "BATCH": (
        "BATCH +<ref> draft/multiline <target>  ...  BATCH -<ref>",
        "Sends one message of several lines (needs the draft/multiline and batch",
        "capabilities): each line as @batch=<ref> PRIVMSG <target> :<line>, with the",
        "draft/multiline-concat tag to continue the previous line. At most",
        "max-lines lines and max-bytes bytes (the capability's value).",
    ),
    "REDACT": (
        "REDACT <target> <msgid> [:<reason>]",
        "Deletes a message from history (draft/message-redaction): <target> is the",
        "channel, or the nick you exchanged the private message with. You may redact",
        "your own messages; channel and IRC operators any message in a channel.",
    ),
    "METADATA": (
        "METADATA <target> <GET | LIST | SET | CLEAR | SUB | UNSUB | SUBS | SYNC> [...]",
        "Reads or changes the key-value metadata (avatar, display-name, status...) of a",
        "user or channel; * means yourself. METADATA * SET <key> :<value> sets one of",
        "your keys (no value removes it); SUB <key>... asks to be told of changes.",
        "Channel operators may set a channel's keys. An account's keys are kept.",
    ),
    "WALLOPS": (
        "WALLOPS :<text>",
        "Operators only: sends the text to every user with user mode +w.",
    ),
    "SERVER": (
        "SERVER <name> <hops> :<info>",
        "Not for clients: a server of the network that dials this one sends it, after",
        "PASS <password> 0210-IRC+ ..., to become a server link (docs/linking.md).",
    ),
}

INDEX_TITLE = "miniircd help"
INDEX_HEAD = "HELP <command> explains one of these commands:"
INDEX_FOOT = (
    "The services have their own: /msg NickServ HELP, /msg ChanServ HELP, /msg MemoServ HELP."
)
INDEX_WIDTH = 60  # characters of verbs per line of the list
