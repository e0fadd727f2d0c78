// A small, safe Markdown renderer for text panels: headings, paragraphs, lists, bold, italic, inline and
// fenced code, links (http, https, mailto and relative only), horizontal rules. It returns an HTML string in
// which every piece of the input is escaped: no tag, attribute or entity from a dashboard gets through.
// htmlToSafe() renders a text panel's HTML mode: kept as HTML only when it uses plain formatting tags with
// no attributes (links: an href that is http(s) or relative); anything else is shown as escaped text.

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}

// http(s), mailto, or a relative path/anchor; javascript:, data:, vbscript: and friends are refused.
export function safeHref(href) {
  const h = String(href).trim();
  // Browsers ignore tabs/newlines and leading control characters inside a scheme: judge the squeezed form.
  const squeezed = h.replace(/[\u0000-\u0020\u007f]+/g, "").toLowerCase();
  if (/^(https?:|mailto:)/.test(squeezed)) return h;
  if (/^[a-z][a-z0-9+.-]*:/.test(squeezed)) return null;
  if (squeezed.startsWith("//") || squeezed.startsWith("\\")) return null;
  return h;
}

function inline(text) {
  // Code spans first: their content is literal.
  const parts = String(text).split(/(`+)([\s\S]*?)\1/);
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    if (i % 3 === 0) out += emphasis(parts[i]);
    else if (i % 3 === 2) out += `<code>${escapeHtml(parts[i])}</code>`;
  }
  return out;
}

function emphasis(text) {
  // Links: [text](href "title"); the href must pass safeHref, else the link text stays plain.
  let out = "", last = 0;
  const re = /\[([^\]]*)\]\(((?:[^()\s]|\([^()\s]*\))*)(?:\s+"[^"]*")?\)/g;  // one level of (parens) in a URL
  let m;
  while ((m = re.exec(text)) !== null) {
    out += styled(text.slice(last, m.index));
    const href = safeHref(m[2]);
    out += href === null ? styled(m[1]) : `<a href="${escapeHtml(href)}" rel="noopener noreferrer">${styled(m[1])}</a>`;
    last = re.lastIndex;
  }
  return out + styled(text.slice(last));
}

function styled(text) {
  let s = escapeHtml(text);
  s = s.replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "<strong>$2</strong>");
  s = s.replace(/(^|[^*\w])\*(?=\S)([^*]*?\S)\*(?!\*)/g, "$1<em>$2</em>");
  s = s.replace(/(^|[^_\w])_(?=\S)([^_]*?\S)_(?![_\w])/g, "$1<em>$2</em>");
  s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
  return s;
}

export function renderMarkdown(src) {
  const lines = String(src ?? "").replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let para = [], list = null;
  const flushPara = () => { if (para.length) { out.push(`<p>${inline(para.join("\n")).replace(/ {2,}\n/g, "<br>")}</p>`); para = []; } };
  const flushList = () => { if (list) { out.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(i)}</li>`).join("")}</${list.tag}>`); list = null; } };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = /^\s*(```|~~~)\s*([\w-]*)\s*$/.exec(line))) {
      flushPara(); flushList();
      const fence = m[1], body = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence); i++) body.push(lines[i]);
      out.push(`<pre><code>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    if (!line.trim()) { flushPara(); flushList(); continue; }
    if ((m = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      flushPara(); flushList();
      out.push(`<h${m[1].length}>${inline(m[2])}</h${m[1].length}>`);
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) { flushPara(); flushList(); out.push("<hr>"); continue; }
    if ((m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line))) {
      flushPara();
      const tag = /\d/.test(m[1]) ? "ol" : "ul";
      if (list && list.tag !== tag) flushList();
      if (!list) list = {tag, items: []};
      list.items.push(m[2]);
      continue;
    }
    if (list && /^\s+\S/.test(line)) { list.items[list.items.length - 1] += " " + line.trim(); continue; }
    if ((m = /^\s*>\s?(.*)$/.exec(line))) { flushPara(); flushList(); out.push(`<blockquote>${inline(m[1])}</blockquote>`); continue; }
    flushList();
    para.push(line);
  }
  flushPara(); flushList();
  return out.join("\n");
}

const SAFE_TAGS = new Set(["P", "B", "I", "EM", "STRONG", "U", "S", "DEL", "BR", "HR", "UL", "OL", "LI", "CODE", "PRE",
  "H1", "H2", "H3", "H4", "H5", "H6", "SPAN", "DIV", "BLOCKQUOTE", "SMALL", "SUB", "SUP", "TABLE", "THEAD", "TBODY",
  "TR", "TH", "TD", "A"]);

// HTML mode: the HTML rebuilt element by element when every element is a plain formatting tag (links with
// a safe href only, no other attribute); otherwise null, and the caller shows the source as text.
export function htmlToSafe(src, doc = document) {
  const parsed = new DOMParser().parseFromString(`<body>${String(src ?? "")}</body>`, "text/html");
  const build = (node) => {
    if (node.nodeType === 3) return doc.createTextNode(node.nodeValue);
    if (node.nodeType !== 1) return doc.createTextNode("");
    if (!SAFE_TAGS.has(node.tagName)) throw new Error("unsafe");
    const el = doc.createElement(node.tagName.toLowerCase());
    for (const a of node.attributes) {
      if (node.tagName === "A" && a.name === "href" && safeHref(a.value) !== null) {
        el.setAttribute("href", safeHref(a.value)); el.setAttribute("rel", "noopener noreferrer");
      } else {
        throw new Error("unsafe");
      }
    }
    for (const c of node.childNodes) el.append(build(c));
    return el;
  };
  try {
    const frag = doc.createDocumentFragment();
    for (const c of parsed.body.childNodes) frag.append(build(c));
    return frag;
  } catch {
    return null;
  }
}
