// rixin's web UI: streamed chat over /v1/responses (with the code interpreter), conversations, files.
import { ApiError, apiKey, events, fileURL, getJSON, request, setApiKey } from "./api.js";
import { callStep, codeStep, el, itemText, messageView } from "./render.js";

const $ = (id) => document.getElementById(id);
const state = { model: null, conversation: null, controller: null, calls: new Map(), attached: new Set() };

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function explain(error) {
  if (error instanceof ApiError && error.status === 401) {
    $("api-key").focus();
    return `${error.message} Enter an API key above (rixin keys create NAME).`;
  }
  return error.message || String(error);
}

function show(node) {
  const log = $("messages");
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  log.append(node);
  if (atEnd) log.scrollTop = log.scrollHeight;
}

function follow() {
  const log = $("messages");
  if (log.scrollHeight - log.scrollTop - log.clientHeight < 160) log.scrollTop = log.scrollHeight;
}

// -- conversations --------------------------------------------------------------------------------------------
async function loadConversations() {
  const list = await getJSON("/v1/conversations?limit=100");
  $("conversations").replaceChildren(
    ...list.data.map((conversation) => {
      const title = conversation.metadata.title || conversation.id;
      const when = new Date(conversation.created_at * 1000).toLocaleString();
      const button = el("button", { type: "button", className: "open", title: `${title} (${when})` }, title);
      button.setAttribute("aria-current", String(conversation.id === state.conversation));
      button.addEventListener("click", () => openConversation(conversation.id).catch((e) => status(explain(e), true)));
      return el("li", { "data-id": conversation.id }, button);
    }),
  );
}

function showItem(item) {
  if (item.type === "message") {
    show(messageView(item.role === "assistant" ? "assistant" : item.role, itemText(item)).root);
  } else if (item.type === "code_interpreter_call") {
    const step = codeStep(item);
    step.done(item);
    step.root.open = false;
    show(step.root);
  } else if (item.type === "function_call") {
    const step = callStep(item);
    state.calls.set(item.call_id, step);
    show(step.root);
  } else if (item.type === "function_call_output") {
    const step = state.calls.get(item.call_id);
    if (step) step.result(item.output);
    else show(callStep({ name: "(earlier call)", arguments: "", call_id: item.call_id }).root);
  }
}

async function openConversation(id) {
  const items = await getJSON(`/v1/conversations/${encodeURIComponent(id)}/items?order=asc&limit=1000`);
  state.conversation = id;
  state.calls = new Map();
  $("messages").replaceChildren();
  items.data.forEach(showItem);
  status(`Conversation ${id}`);
  await loadConversations();
  $("prompt").focus();
}

function newChat() {
  state.conversation = null;
  state.calls = new Map();
  $("messages").replaceChildren();
  status("New conversation");
  loadConversations().catch((e) => status(explain(e), true));
  $("prompt").focus();
}

// -- files ----------------------------------------------------------------------------------------------------
async function loadFiles() {
  const list = await getJSON("/v1/files");
  $("files").replaceChildren(
    ...list.data.map((file) => {
      const use = el("input", { type: "checkbox", checked: state.attached.has(file.id) });
      use.setAttribute("aria-label", `Give ${file.filename} to the code interpreter`);
      use.addEventListener("change", () => (use.checked ? state.attached.add(file.id) : state.attached.delete(file.id)));
      const save = el("button", { type: "button" }, "Download");
      save.setAttribute("aria-label", `Download ${file.filename}`);
      save.addEventListener("click", () => download(file).catch((e) => status(explain(e), true)));
      const size = file.bytes < 1024 ? `${file.bytes} B` : `${(file.bytes / 1024).toFixed(1)} KiB`;
      return el("li", { className: "file", "data-id": file.id }, use, el("span", { className: "name", title: file.filename }, file.filename), el("span", { className: "muted" }, size), save);
    }),
  );
}

async function download(file) {
  const link = el("a", { href: await fileURL(file.id), download: file.filename });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

async function upload(event) {
  event.preventDefault();
  const input = $("file-input");
  if (!input.files.length) return status("Choose a file first.", true);
  const form = new FormData();
  form.append("purpose", "user_data");
  form.append("file", input.files[0]);
  const file = await (await request("/v1/files", { method: "POST", body: form })).json();
  state.attached.add(file.id);
  $("use-code").checked = true;
  input.value = "";
  status(`Uploaded ${file.filename} (${file.id}); the code interpreter will find it in /mnt/data.`);
  await loadFiles();
}

// -- sending --------------------------------------------------------------------------------------------------
function busy(on) {
  $("send").disabled = on;
  $("stop").disabled = !on;
}

async function send(event) {
  event.preventDefault();
  const text = $("prompt").value.trim();
  if (!text || state.controller) return;
  $("prompt").value = "";
  const controller = (state.controller = new AbortController());
  busy(true);
  show(messageView("user", text).root);
  try {
    if (!state.conversation) {
      const created = await getJSON("/v1/conversations", { method: "POST", json: { metadata: { title: text.slice(0, 80) } } });
      state.conversation = created.id;
    }
    const body = { model: state.model, input: text, conversation: state.conversation, stream: true };
    if ($("use-code").checked) body.tools = [{ type: "code_interpreter", container: { type: "auto", file_ids: [...state.attached] } }];
    status("Generating…");
    const response = await request("/v1/responses", { method: "POST", json: body, signal: controller.signal });
    await play(response);
  } catch (error) {
    if (error.name === "AbortError") status("Stopped.");
    else {
      show(messageView("error", explain(error)).root);
      status("The request failed.", true);
    }
  } finally {
    state.controller = null;
    busy(false);
    for (const view of document.querySelectorAll('.msg[aria-busy="true"]')) view.setAttribute("aria-busy", "false");
    await Promise.allSettled([loadConversations(), loadFiles()]);
  }
}

/** Render a streamed response's events as they come. */
async function play(response) {
  const views = new Map();
  const messageFor = (id) => {
    if (!views.has(id)) {
      const view = messageView("assistant", "", true);
      views.set(id, view);
      show(view.root);
    }
    return views.get(id);
  };
  for await (const event of events(response)) {
    const item = event.item || {};
    if (event.type === "response.output_item.added" && item.type === "message") messageFor(item.id);
    else if (event.type === "response.output_text.delta") messageFor(event.item_id).append(event.delta);
    else if (event.type === "response.output_item.added" && item.type === "code_interpreter_call") {
      const step = codeStep(item);
      views.set(item.id, step);
      show(step.root);
    } else if (event.type === "response.output_item.done") finishItem(item, views, messageFor);
    else if (event.type === "response.completed") status("Done.");
    else if (event.type === "response.incomplete") status(`Stopped early: ${event.response.incomplete_details?.reason || "incomplete"}.`);
    else if (event.type === "response.failed") status(`Failed: ${event.response.error?.message || "unknown error"}`, true);
    else if (event.type === "error") {
      show(messageView("error", event.message).root);
      status("The response failed.", true);
    }
    follow();
  }
}

function finishItem(item, views, messageFor) {
  if (item.type === "message") {
    const view = messageFor(item.id);
    if (item.status === "incomplete" && !itemText(item).trim()) view.root.remove();
    else view.done(itemText(item));
  } else if (item.type === "code_interpreter_call") {
    const step = views.get(item.id) || codeStep(item);
    if (!views.has(item.id)) show(step.root);
    step.done(item);
  } else if (item.type === "function_call") {
    const step = callStep(item);
    state.calls.set(item.call_id, step);
    show(step.root);
  }
}

// -- start ----------------------------------------------------------------------------------------------------
async function refresh() {
  try {
    const models = await getJSON("/v1/models");
    state.model = models.data[0].id;
    $("model").textContent = state.model;
    await Promise.all([loadConversations(), loadFiles()]);
    status(apiKey() ? "Ready." : "Ready (no key: the server runs in local no-auth mode).");
  } catch (error) {
    status(explain(error), true);
  }
}

function start() {
  $("api-key").value = apiKey();
  $("use-code").checked = localStorage.getItem("rixin.useCode") === "1";
  $("use-code").addEventListener("change", () => localStorage.setItem("rixin.useCode", $("use-code").checked ? "1" : "0"));
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey($("api-key").value.trim());
    status("Key saved in this browser.");
    refresh();
  });
  $("new-chat").addEventListener("click", newChat);
  $("upload-form").addEventListener("submit", (event) => upload(event).catch((e) => status(explain(e), true)));
  $("composer").addEventListener("submit", send);
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("stop").addEventListener("click", () => state.controller?.abort());
  refresh();
}

start();
