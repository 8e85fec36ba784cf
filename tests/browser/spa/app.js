// A shop's single-page app on another origin of the same site, in the API's browser
// mode: the session cookie, and the CSRF token of GET /api/v1/session sent back as
// X-CSRF-Token. The API's address comes in the page's query: ?api=http://localhost:PORT
"use strict";

const api = new URLSearchParams(window.location.search).get("api");
const status = document.getElementById("status");

async function call(method, path, csrfToken, body) {
  // An X-CSRF-Token header, even empty, selects browser mode.
  const headers = { "X-CSRF-Token": csrfToken };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`${api}/api/v1${path}`, {
    method,
    credentials: "include",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { ok: response.ok, data: await response.json() };
}

document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  status.textContent = "Signing in…";
  try {
    const before = await call("GET", "/session", "");
    const signIn = await call("POST", "/session", before.data.csrf_token, {
      email: form.elements.email.value,
      password: form.elements.password.value,
    });
    if (!signIn.ok) {
      status.textContent = signIn.data.errors.map((error) => error.message).join(" ");
      return;
    }
    const after = await call("GET", "/session", "");
    status.textContent = after.data.signed_in
      ? `Signed in as ${after.data.account.email}`
      : "Not signed in";
  } catch (error) {
    status.textContent = `The API could not be reached: ${error}`;
  }
});
