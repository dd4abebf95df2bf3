// "Stay logged in on this device", with a login token instead of the password.
//
// After a login with the box ticked, the page asks NickServ for a login token (`TOKEN`) and
// keeps it in localStorage with the account name and the rooms to rejoin. On the next visit
// it logs in with SASL PLAIN over the same socket, the token in place of the password. A
// token logs in but cannot change the password or drop the account; the server keeps only
// its hash. Logging out revokes it (`TOKEN REVOKE`) and forgets it; a token the server no
// longer takes is forgotten at the first failed login. The password itself is never
// written to localStorage, sessionStorage or a cookie. See docs/web.md, "Passwords".

const KEY = "miniircd.stay";
export const TOKEN_PREFIX = "miniircd-token-";

export function saved() {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) || "null");
    if (!value || typeof value.account !== "string") return null;
    return {
      account: value.account,
      token: typeof value.token === "string" && value.token.startsWith(TOKEN_PREFIX) ? value.token : null,
      rooms: Array.isArray(value.rooms) ? value.rooms : [],
    };
  } catch {
    return null;
  }
}

function write(value) {
  try {
    localStorage.setItem(KEY, JSON.stringify(value));
  } catch {
    /* storage full or disabled: nothing is remembered */
  }
}

/** The person asked to stay logged in as `account`: remember the name until a token comes. */
export function keep(account) {
  const before = saved();
  const same = before && before.account === account;
  write({ account, token: same ? before.token : null, rooms: same ? before.rooms : [] });
}

/** NickServ gave a token for the remembered account. */
export function keepToken(account, token) {
  const current = saved();
  if (current && current.account === account) write({ ...current, token });
}

/** The rooms to rejoin next time (only while staying logged in). */
export function keepRooms(account, rooms) {
  const current = saved();
  if (current && current.account === account) write({ ...current, rooms });
}

/** Logging out or a refused token: forget the account, its token and its rooms. */
export function forget() {
  try {
    localStorage.removeItem(KEY);
  } catch {
    /* nothing to forget */
  }
}
