// The server's API from the browser: the key from localStorage, OpenAI error objects as exceptions, SSE reading.
const KEY = "rixin.apiKey";

export function apiKey() {
  return localStorage.getItem(KEY) || "";
}

export function setApiKey(value) {
  if (value) localStorage.setItem(KEY, value);
  else localStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(json) {
  const result = new Headers();
  const key = apiKey();
  if (key) result.set("Authorization", "Bearer " + key);
  if (json) result.set("Content-Type", "application/json");
  return result;
}

async function toError(response) {
  let message = `${response.status} ${response.statusText}`;
  let code = null;
  try {
    const error = (await response.json()).error;
    if (error && error.message) ({ message, code } = error);
  } catch {
    // not an OpenAI error object: keep the status line
  }
  return new ApiError(response.status, message, code);
}

/** fetch `path` with the key; `json` becomes the JSON body, `body` is sent as is (FormData). */
export async function request(path, { method = "GET", json, body, signal } = {}) {
  const init = { method, headers: headers(json !== undefined), signal };
  if (json !== undefined) init.body = JSON.stringify(json);
  else if (body !== undefined) init.body = body;
  const response = await fetch(path, init);
  if (!response.ok) throw await toError(response);
  return response;
}

export async function getJSON(path, options) {
  return (await request(path, options)).json();
}

/** The JSON payloads of a Server-Sent Events response, one per event (`[DONE]` ends chat streams). */
export async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data && data !== "[DONE]") yield JSON.parse(data);
    }
  }
}

/** A file's content as an object URL (the content needs the key, so it cannot be a plain link). */
export async function fileURL(fileId) {
  const response = await request(`/v1/files/${encodeURIComponent(fileId)}/content`);
  return URL.createObjectURL(await response.blob());
}
