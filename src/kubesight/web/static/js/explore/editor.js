// The PromQL editor: a textarea over a highlighted copy of its text, autocomplete, bracket pairs, and the
// syntax error under it (checked as you type, see parse.js) with its position marked.
import {h, clear, debounce} from "../core.js";
import {parseQuery} from "./parse.js";
import {lex, tokenClass, completionContext, parseErrorPosition} from "./lang.js";
import {itemsFor} from "./complete.js";

const PAIRS = {"(": ")", "[": "]", "{": "}", "\"": "\""};
const CLOSERS = new Set([")", "]", "}"]);
const KIND_BADGE = {metric: "M", function: "f", aggregation: "Σ", keyword: "K", label: "L", value: "V", duration: "D"};

let uid = 0;

export class Editor {
  // opts: {value, onExecute(), onChange(text), onParsed(ast|null, error|null), placeholder}
  constructor(container, opts = {}) {
    this.opts = opts;
    this.items = []; this.sel = 0; this.ctx = null; this.open = false; this.error = null; this.seq = 0; this.parseSeq = 0;
    const id = `kx-ac-${++uid}`;
    this.hl = h("pre", {class: "kx-hl", "aria-hidden": "true"});
    this.ta = h("textarea", {class: "kx-input", rows: 1, spellcheck: "false", autocomplete: "off", autocapitalize: "off",
      "aria-label": "PromQL expression", "aria-autocomplete": "list", "aria-controls": id,
      placeholder: opts.placeholder || "Expression (Enter runs it, Shift+Enter adds a line, Ctrl+Space completes)"});
    this.list = h("ul", {class: "kx-complete", role: "listbox", id, hidden: true});
    this.doc = h("div", {class: "kx-complete-doc", hidden: true});
    this.pop = h("div", {class: "kx-pop", hidden: true}, this.list, this.doc);
    this.field = h("div", {class: "kx-field"}, this.hl, this.ta, this.pop);
    this.errEl = h("div", {class: "kx-syntax", role: "alert", hidden: true});
    this.el = h("div", {class: "kx-editor"}, this.field, this.errEl);
    container.append(this.el);
    this.ta.value = opts.value || "";
    this.check = debounce(() => this.parse(), 350);
    this.ta.addEventListener("keydown", (e) => this.keydown(e));
    this.ta.addEventListener("input", (e) => this.input(e));
    this.ta.addEventListener("scroll", () => { this.hl.scrollTop = this.ta.scrollTop; this.hl.scrollLeft = this.ta.scrollLeft; });
    this.ta.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== this.ta) this.close(); }, 150));
    this.ta.addEventListener("click", () => { if (this.open) this.complete(false); });
    this.render();
    new ResizeObserver(() => this.fit()).observe(this.field);
  }

  get value() { return this.ta.value; }
  set value(v) { this.ta.value = v; this.render(); this.check(); }
  focus() { this.ta.focus(); }

  fit() { this.ta.style.height = "auto"; this.ta.style.height = this.ta.scrollHeight + "px"; }

  // The highlighted copy, the error underlined, and a zero-size mark at the caret (to place the list).
  render() {
    const text = this.ta.value, caret = this.ta.selectionStart ?? text.length;
    const err = this.error?.pos;
    clear(this.hl);
    const toks = lex(text), sig = toks.filter((t) => t.t !== "ws");
    let mark = null;
    const put = (s, e, cls) => {
      // split at the caret and the error so both can be marked inside a token
      const cuts = [s, e];
      if (caret > s && caret < e) cuts.splice(1, 0, caret);
      if (err && err.offset > s && err.offset < e && err.offset !== caret) cuts.push(err.offset);
      cuts.sort((a, b) => a - b);
      for (let k = 0; k + 1 < cuts.length; k++) {
        const a = cuts[k], b = cuts[k + 1];
        if (a === caret && !mark) { mark = h("span", {class: "kx-caret"}); this.hl.append(mark); }
        let span = h("span", {class: cls ? "kx-t-" + cls : ""}, text.slice(a, b));
        if (err && a >= err.offset && a < (err.endOffset ?? err.offset + 1)) span.classList.add("kx-err-at");
        else if (err && err.offset === a) span.classList.add("kx-err-at");
        this.hl.append(span);
        span = null;
      }
    };
    const next = new Map(sig.map((t, k) => [t, sig[k + 1]]));
    toks.forEach((t) => put(t.s, t.e, tokenClass(t, next.get(t))));
    if (!mark) { mark = h("span", {class: "kx-caret"}); this.hl.append(mark); }
    if (err && err.offset >= text.length) this.hl.append(h("span", {class: "kx-err-at kx-err-end"}, " "));
    this.hl.append("\n");
    this.mark = mark;
    this.fit();
  }

  input(e) {
    if (this.inserting) return;  // insert() renders and completes itself
    this.render();
    this.opts.onChange?.(this.ta.value);
    this.check();
    const typed = e?.inputType?.startsWith("insert") || e?.inputType === "deleteContentBackward";
    if (typed) this.complete(false);
  }

  insert(text, {from = this.ta.selectionStart, to = this.ta.selectionEnd, back = 0} = {}) {
    this.ta.focus();
    this.ta.setSelectionRange(from, to);
    // execCommand keeps the browser's undo stack; setRangeText where it is not supported
    this.inserting = true;
    try {
      if (!document.execCommand?.("insertText", false, text)) this.ta.setRangeText(text, from, to, "end");
    } finally { this.inserting = false; }
    const at = from + text.length - back;
    this.ta.setSelectionRange(at, at);
    this.render();
    this.opts.onChange?.(this.ta.value);
    this.check();
  }

  keydown(e) {
    const ta = this.ta, v = ta.value, s = ta.selectionStart, en = ta.selectionEnd;
    if (this.open && this.items.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        this.select((this.sel + (e.key === "ArrowDown" ? 1 : -1) + this.items.length) % this.items.length);
        return;
      }
      const plainEnter = e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey;
      // Enter on what is already written (the exact word) runs the query; otherwise Enter and Tab pick.
      if (plainEnter && this.items[this.sel]?.label === this.ctx?.prefix) { this.close(); }
      else if (plainEnter || e.key === "Tab") { e.preventDefault(); this.pick(this.sel); return; }
    }
    if (e.key === "Escape") { if (this.open) { e.preventDefault(); this.close(); } return; }
    if (e.key === " " && e.ctrlKey) { e.preventDefault(); this.complete(true); return; }
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); this.close(); this.opts.onExecute?.(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    // Bracket pairs: typing an opener adds its closer; typing a closer over an existing one steps over it.
    if (s === en && CLOSERS.has(e.key) && v[s] === e.key) { e.preventDefault(); ta.setSelectionRange(s + 1, s + 1); this.render(); return; }
    if (s === en && e.key === "\"" && v[s] === "\"" && inString(v, s)) { e.preventDefault(); ta.setSelectionRange(s + 1, s + 1); this.render(); return; }
    if (s === en && PAIRS[e.key] && (s === v.length || /[\s)\]},]/.test(v[s])) && !(e.key === "\"" && inString(v, s))) {
      e.preventDefault();
      this.insert(e.key + PAIRS[e.key], {back: 1});
      this.complete(false, e.key);
      return;
    }
    if (e.key === "Backspace" && s === en && s > 0 && PAIRS[v[s - 1]] === v[s]) {
      e.preventDefault();
      this.insert("", {from: s - 1, to: s + 1});
      this.complete(false);
    }
  }

  // Opens or refreshes the list for the caret's context (explicit: Ctrl+Space, lists even without a prefix).
  async complete(explicit, typedOpener = "") {
    const pos = this.ta.selectionStart, text = this.ta.value;
    if (this.ta.selectionEnd !== pos) { this.close(); return; }
    const ctx = completionContext(text, pos);
    if (ctx.kind === "duration") {
      const p = /[0-9a-z]*$/.exec(text.slice(0, pos))[0];
      ctx.prefix = p; ctx.from = pos - p.length; ctx.to = pos;
    }
    if (ctx.kind === "none") { this.close(); return; }
    // After an opener, only contexts that list without typing: labels, values, durations, grouping.
    const auto = ["labelName", "labelValue", "grouping", "duration"].includes(ctx.kind);
    if (!explicit && !ctx.prefix && !auto) { this.close(); return; }
    if (typedOpener === "(" && ctx.kind === "expr") { this.close(); return; }
    const seq = ++this.seq;
    const items = await itemsFor(ctx, explicit || auto);
    if (seq !== this.seq || document.activeElement !== this.ta) return;
    // An exact, only match leaves nothing to pick.
    if (!items.length || (items.length === 1 && items[0].label === ctx.prefix && !explicit && ctx.kind !== "labelValue")) { this.close(); return; }
    this.ctx = ctx; this.items = items; this.open = true;
    this.showList();
  }

  showList() {
    clear(this.list);
    const p = (this.ctx.prefix || "").toLowerCase();
    this.items.forEach((it, i) => {
      const l = it.label, at = p ? l.toLowerCase().indexOf(p) : -1;
      const name = at >= 0 ? [l.slice(0, at), h("b", {}, l.slice(at, at + p.length)), l.slice(at + p.length)] : [l];
      this.list.append(h("li", {class: "kx-item", role: "option", id: `${this.list.id}-${i}`, dataset: {i: String(i), kind: it.kind, label: it.label},
        onmousedown: (e) => { e.preventDefault(); this.pick(i); }},
      h("span", {class: "kx-badge kx-k-" + it.kind, title: it.kind}, KIND_BADGE[it.kind] || "?"),
      h("span", {class: "kx-name"}, name), it.detail ? h("span", {class: "kx-detail"}, it.detail) : null));
    });
    this.pop.hidden = false;
    this.list.hidden = false;
    this.ta.setAttribute("aria-expanded", "true");
    this.select(0);
    this.place();
  }

  place() {
    this.render();
    const m = this.mark;
    if (!m) return;
    const fw = this.field.clientWidth;
    const top = m.offsetTop - this.ta.scrollTop + (parseFloat(getComputedStyle(this.ta).lineHeight) || 18);
    const w = Math.min(560, fw);
    const left = Math.max(0, Math.min(m.offsetLeft - this.ta.scrollLeft, fw - w));
    Object.assign(this.pop.style, {top: top + "px", left: left + "px", width: w + "px"});
  }

  select(i) {
    this.sel = i;
    [...this.list.children].forEach((li, k) => { li.classList.toggle("kx-active", k === i); li.setAttribute("aria-selected", String(k === i)); });
    const li = this.list.children[i];
    li?.scrollIntoView({block: "nearest"});
    if (li) this.ta.setAttribute("aria-activedescendant", li.id);
    const it = this.items[i];
    const doc = it?.doc || "";
    this.doc.hidden = !doc && !(it && ["function", "aggregation", "keyword"].includes(it.kind));
    clear(this.doc);
    if (it && !this.doc.hidden) {
      if (["function", "aggregation", "keyword"].includes(it.kind)) this.doc.append(h("code", {}, it.detail), " ");
      else if (it.detail) this.doc.append(h("span", {class: "kx-badge-type"}, it.detail), " ");
      this.doc.append(doc);
    }
  }

  pick(i) {
    const it = this.items[i], ctx = this.ctx;
    if (!it || !ctx) return;
    this.close();
    this.insert(it.insert, {from: ctx.from, to: ctx.to, back: it.back || 0});
    if (it.reopen) this.complete(false);
  }

  close() {
    this.open = false; this.items = []; this.seq++;
    this.pop.hidden = true; this.list.hidden = true;
    this.ta.setAttribute("aria-expanded", "false");
    this.ta.removeAttribute("aria-activedescendant");
  }

  // The debounced syntax check as you type; also called on execute with the server's message.
  async parse() {
    const text = this.ta.value, seq = ++this.parseSeq;
    if (!text.trim()) { this.setError(null); this.opts.onParsed?.(null, null); return; }
    let res;
    try { res = await parseQuery(text); } catch { return; }  // server unreachable: the next run says so
    if (this.parseSeq !== seq || text !== this.ta.value) return;
    this.setError(res.error?.message || null);
    this.opts.onParsed?.(res.ast, res.error?.message || null);
  }

  // message: the server's error text (null clears). A positioned parse error is marked in the text and
  // shown with the line and a caret under the column.
  setError(message) {
    clear(this.errEl);
    if (!message) { this.error = null; this.errEl.hidden = true; this.el.classList.remove("kx-has-error"); this.render(); return; }
    const text = this.ta.value;
    const pos = parseErrorPosition(message, text);
    this.error = {message, pos};
    this.errEl.hidden = false;
    this.el.classList.add("kx-has-error");
    this.errEl.append(h("div", {class: "kx-syntax-msg"}, message));
    if (pos) {
      const lineText = text.split("\n")[pos.line - 1] ?? "";
      const col = Math.max(1, Math.min(pos.col, lineText.length + 1));
      this.errEl.append(h("pre", {class: "kx-syntax-where", dataset: {line: String(pos.line), col: String(pos.col)}},
        h("span", {class: "kx-syntax-lno"}, `${pos.line}:${pos.col} `), lineText, "\n",
        h("span", {class: "kx-syntax-lno"}, " ".repeat(`${pos.line}:${pos.col} `.length)), " ".repeat(col - 1),
        h("span", {class: "kx-syntax-caret"}, "^")));
    }
    this.render();
  }
}

function inString(v, pos) {
  const toks = lex(v.slice(0, pos));
  const t = toks[toks.length - 1];
  return !!t && t.t === "str" && !t.closed;
}
