// Parse a query the way the server does: {ast, error: {message} | null}. Uses /api/ui/promql/parse (HTTP 200
// with the error in the body, so a query being typed does not log failed requests in the console) and falls
// back to Prometheus' /api/v1/parse_query where that helper is not mounted.
import {api} from "../core.js";

let helper = true;

export async function parseQuery(text, opts = {}) {
  if (helper) {
    try {
      return await api.get("/api/ui/promql/parse", {query: text}, opts);
    } catch (e) {
      if (e.status !== 404) throw e;
      helper = false;
    }
  }
  try {
    return {ast: await api.get("/api/v1/parse_query", {query: text}, opts), error: null};
  } catch (e) {
    if (e.errorType) return {ast: null, error: {message: e.message, errorType: e.errorType}};
    throw e;
  }
}
