// The Connect page is rendered whole on the server; this module only sets up the shared header.
import "../core.js";
