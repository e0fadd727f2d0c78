// Placeholder until this page's module lands.
import {pageRoot, h} from "../core.js";
pageRoot().append(h("p", {class: "ks-muted"}, "This page is being built."));
