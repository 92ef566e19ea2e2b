// DOM building for messages and tool steps. Model and user text only ever goes through textContent.
import { fileURL } from "./api.js";

/** `el("pre", {className: "x"}, "text", child)`: properties are set as properties, children as nodes or text. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name.startsWith("aria-") || name.startsWith("data-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function itemText(item) {
  return (item.content || [])
    .map((part) => (typeof part === "string" ? part : part.text || ""))
    .join("\n");
}

/** A chat bubble; `append` adds streamed text, `done` sets the final text. */
export function messageView(role, text = "", busy = false) {
  const body = el("div", { className: "text" }, text);
  const root = el("div", { className: `msg ${role}`, "aria-busy": String(busy) }, el("div", { className: "who" }, role), body);
  return {
    root,
    append(piece) {
      body.textContent += piece;
    },
    done(final) {
      if (final !== undefined) body.textContent = final;
      root.setAttribute("aria-busy", "false");
    },
    text: () => body.textContent,
  };
}

function image(output) {
  const img = el("img", { alt: "Image made by the code" });
  const url = String(output.url || "");
  if (url.startsWith("data:image/")) img.src = url;
  else if (output.file_id) fileURL(output.file_id).then((objectURL) => (img.src = objectURL)).catch(() => (img.alt += " (not available)"));
  return img;
}

/** A code-interpreter run as a collapsible step: the code, then (when done) its output, images and files. */
export function codeStep(item) {
  const summary = el("summary", {}, "Code interpreter: running…");
  const outputs = el("div", { className: "outputs" });
  const root = el(
    "details",
    { className: "step code", open: true, "data-item-id": item.id || "" },
    summary,
    el("div", { className: "label" }, "Code"),
    el("pre", {}, el("code", {}, item.code || "")),
    outputs,
  );
  return {
    root,
    done(result) {
      const failed = result.status === "failed";
      root.classList.toggle("failed", failed);
      summary.textContent = failed ? "Code interpreter: failed" : "Code interpreter: done";
      outputs.replaceChildren();
      for (const output of result.outputs || []) {
        if (output.type === "logs") outputs.append(el("div", { className: "label" }, "Output"), el("pre", { className: "logs" }, output.logs));
        else if (output.type === "image") outputs.append(image(output));
      }
      for (const file of result.files || []) outputs.append(el("div", { className: "label" }, `Wrote ${file.filename} (${file.file_id})`));
      if (!(result.outputs || []).length && !(result.files || []).length) outputs.append(el("div", { className: "label" }, "No output"));
    },
  };
}

/** A function call as a collapsible step: its arguments, then its result when one comes. */
export function callStep(item) {
  const result = el("div", { className: "result" }, el("div", { className: "label" }, "Waiting for the client to run it"));
  const root = el(
    "details",
    { className: "step call", "data-call-id": item.call_id || "" },
    el("summary", {}, `Tool call: ${item.name}`),
    el("div", { className: "label" }, "Arguments"),
    el("pre", {}, item.arguments || ""),
    result,
  );
  return {
    root,
    result(output) {
      result.replaceChildren(el("div", { className: "label" }, "Result"), el("pre", {}, output));
    },
  };
}
