// The Explain tab: the expression as /api/v1/parse_query returns it, drawn as a tree of nodes, each with
// its PromQL text and what it does; "Run" opens a node's sub-expression in a new panel.
import {h} from "../core.js";
import {FUNCTIONS, AGGREGATIONS, toPromQL, selectorText, matchingText, durationText} from "./lang.js";

const FN_DOC = Object.fromEntries(FUNCTIONS.map(([n, , d]) => [n, d]));
const AGG_DOC = Object.fromEntries(AGGREGATIONS.map(([n, , d]) => [n, d]));
const BIN_DOC = {"+": "addition", "-": "subtraction", "*": "multiplication", "/": "division", "%": "modulo", "^": "power",
  "==": "equal", "!=": "not equal", ">": "greater than", "<": "less than", ">=": "greater or equal", "<=": "less or equal",
  and: "intersection", or: "union", unless: "complement", atan2: "arctangent of lhs/rhs"};

function children(n) {
  switch (n.type) {
    case "parenExpr": case "unaryExpr": case "subquery": return [n.expr];
    case "call": return n.args;
    case "aggregation": return n.param ? [n.param, n.expr] : [n.expr];
    case "binaryExpr": return [n.lhs, n.rhs];
    default: return [];
  }
}

// [head text, type label, description]
export function describe(n) {
  switch (n.type) {
    case "aggregation": {
      const g = n.grouping.length || n.without ? ` ${n.without ? "without" : "by"} (${n.grouping.join(", ")})` : "";
      const how = n.without ? `keeping every label except ${n.grouping.join(", ") || "none"}` : n.grouping.length ? `per ${n.grouping.join(", ")}` : "over all series into one";
      return [`${n.op}${g}`, "aggregation", `${(AGG_DOC[n.op] || "Aggregation").replace(/\.$/, "")}, ${how}.`];
    }
    case "binaryExpr": {
      const m = n.matching;
      let how = "";
      if (m) {
        how = m.on ? ` Series match on ${m.labels.join(", ") || "no labels"}` : m.labels.length ? ` Series match ignoring ${m.labels.join(", ")}` : " Series match on all labels";
        if (m.card === "many-to-one") how += `; many on the left to one on the right${m.include.length ? `, copying ${m.include.join(", ")}` : ""}`;
        else if (m.card === "one-to-many") how += `; one on the left to many on the right${m.include.length ? `, copying ${m.include.join(", ")}` : ""}`;
        else if (m.card === "many-to-many") how += "; set operation";
        else how += "; one-to-one";
        how += ".";
      }
      const what = BIN_DOC[n.op] || n.op;
      return [`${n.op}${matchingText(n)}`, "binary operator", `${what[0].toUpperCase()}${what.slice(1)}${n.bool ? " returning 0 or 1" : ""}.${how}`];
    }
    case "call": return [`${n.func.name}()`, "function call", FN_DOC[n.func.name] || ""];
    case "vectorSelector": {
      const ms = n.matchers.filter((m) => m.name !== "__name__").map((m) => `${m.name}${m.type}"${m.value}"`);
      return [toPromQL(n), "vector selector", `Series${n.name ? ` named ${n.name}` : ""}${ms.length ? ` with ${ms.join(", ")}` : ""}, their latest sample at each step${n.offset ? `, ${durationText(n.offset)} ago` : ""}.`];
    }
    case "matrixSelector": return [toPromQL(n), "range selector", `Every sample of ${selectorText(n.vectorSelector)} in the last ${durationText(n.range)} at each step.`];
    case "subquery": return [toPromQL(n).slice(toPromQL(n.expr).length), "subquery", `The inner expression evaluated every ${n.step ? durationText(n.step) : "default step"} over ${durationText(n.range)}${n.offset ? `, ${durationText(n.offset)} ago` : ""}.`];
    case "numberLiteral": return [String(n.val), "number", "A scalar constant."];
    case "stringLiteral": return [JSON.stringify(n.val), "string", "A string constant."];
    case "parenExpr": return ["( … )", "parentheses", "Grouping."];
    case "unaryExpr": return [`${n.op || "-"} …`, "unary minus", "Negates every value."];
    default: return [n.type, n.type, ""];
  }
}

export function renderExplain(ast, {onRun} = {}) {
  const node = (n) => {
    const [head, type, doc] = describe(n);
    const kids = children(n);
    const expr = toPromQL(n);
    return h("li", {class: "kx-node", dataset: {type: n.type}},
      h("div", {class: "kx-node-head"},
        h("code", {class: "kx-node-expr", title: expr}, head),
        h("span", {class: "ks-badge kx-node-type"}, type),
        onRun && n.type !== "numberLiteral" && n.type !== "stringLiteral"
          ? h("button", {type: "button", class: "ks-btn kx-node-run", title: `Run ${expr} in a new panel`, onclick: () => onRun(expr)}, "Run")
          : null),
      doc ? h("div", {class: "kx-node-doc ks-muted"}, doc) : null,
      kids.length ? h("ul", {class: "kx-tree"}, kids.map(node)) : null);
  };
  return h("ul", {class: "kx-tree kx-tree-root"}, node(ast));
}
