// Building DOM safely: elements are made with createElement and text goes in as text
// nodes, never as HTML, so nothing a person writes can become markup or script.

import { fold } from "./irc.js";

/**
 * h("button", {class: "x", type: "button", onclick: fn}, "text", child...) -> element.
 * Attributes are plain strings (never "style" or inline handlers: the page's CSP forbids
 * them); `on*` keys become event listeners; children are nodes or strings (as text).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// http(s) links only; trailing punctuation is left out unless it closes a bracket the
// link opened ("(see https://x.org/a_(b))").
const LINK = /\bhttps?:\/\/[^\s<>"'`]+/gi;

function trimLink(url) {
  let end = url.length;
  while (end > 0) {
    const ch = url[end - 1];
    if (".,;:!?'\"".includes(ch)) end -= 1;
    else if (ch === ")" && (url.slice(0, end).match(/\(/g) || []).length < (url.slice(0, end).match(/\)/g) || []).length) end -= 1;
    else break;
  }
  return url.slice(0, end);
}

/** Text with its http(s) links made clickable: an array of text nodes and <a> elements. */
export function linkify(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const url = trimLink(match[0]);
    let href;
    try {
      href = new URL(url);
    } catch {
      continue;
    }
    if (href.protocol !== "http:" && href.protocol !== "https:") continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(h("a", { href: href.href, target: "_blank", rel: "noopener noreferrer" }, url));
    last = match.index + url.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

// IRC formatting codes (bold, colours...) are shown as plain text: they are removed.
const FORMATTING = /[\x02\x1d\x1f\x1e\x11\x16\x0f]|\x03(\d{1,2}(,\d{1,2})?)?|\x04[0-9a-f]{6}(,[0-9a-f]{6})?/gi;

export function plain(text) {
  return text.replace(FORMATTING, "");
}

export const NICK_COLOURS = 12;

/** The same colour for a nick everywhere: a class nick-c0 ... nick-c11 from its hash. */
export function nickClass(nick) {
  let hash = 2166136261;
  for (const ch of fold(nick)) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return `nick-c${hash % NICK_COLOURS}`;
}

export function initial(nick) {
  const letter = nick.replace(/^[^A-Za-z0-9]+/, "")[0] || nick[0] || "?";
  return letter.toUpperCase();
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });

export function clockTime(ms) {
  return timeFormat.format(new Date(ms));
}

export function fullTime(ms) {
  return fullFormat.format(new Date(ms));
}

export function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "Today", "Yesterday" or the local date, for day separators. */
export function dayLabel(ms, now = Date.now()) {
  if (dayKey(ms) === dayKey(now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (dayKey(ms) === dayKey(yesterday.getTime())) return "Yesterday";
  return dayFormat.format(new Date(ms));
}
