// Configuration: the running config as YAML (/api/v1/status/config) and the built-in Alertmanager's
// configuration (/api/v2/status), each with a copy button.
import {h, clear, api, errorBox} from "../core.js";
import {statusPage, apiMessage, copyText} from "../status/common.js";

const pg = statusPage({title: "Configuration", sub: "The configuration this server runs with, as it was loaded (defaults filled in)."});

function yamlPanel(title, yaml, cls) {
  const btn = h("button", {class: "ks-btn", type: "button", "data-action": "copy"}, "Copy");
  btn.addEventListener("click", async () => {
    try { await copyText(yaml); btn.textContent = "Copied"; } catch (e) { btn.textContent = "Copy failed"; console.warn(e); }
    setTimeout(() => { btn.textContent = "Copy"; }, 1500);
  });
  return h("div", {class: "ks-panel " + cls}, h("div", {class: "ks-row-flex", style: {justifyContent: "space-between"}}, h("h2", {}, title), btn),
    h("pre", {class: "ks-yaml"}, yaml || "# empty"));
}

pg.start(async (body) => {
  const [cfg, am] = await Promise.allSettled([api.get("/api/v1/status/config"), api.json("/api/v2/status")]);
  clear(body);
  body.append(cfg.status === "fulfilled" ? yamlPanel("kubesight (Prometheus-compatible) configuration", cfg.value.yaml, "ks-config")
    : errorBox(apiMessage(cfg.reason), "/api/v1/status/config"));
  body.append(am.status === "fulfilled" ? yamlPanel("Built-in Alertmanager configuration", am.value?.config?.original || "", "ks-am-config")
    : errorBox(apiMessage(am.reason), "/api/v2/status"));
});
