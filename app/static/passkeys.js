// Passkey buttons (WebAuthn). Each button says which ceremony it runs:
//   data-passkey="create" (add a passkey) or "get" (sign in, second step, confirm it is you),
//   data-options: where to POST for the options, data-answer: where to POST the answer,
//   data-csrf: the form token, data-next: the page to go to after, data-name-field: the
//   id of the input holding the new passkey's name.
// The server answers {"redirect": url} or {"error": message}. In a browser without
// passkeys (or without JavaScript) the buttons stay hidden and the forms work as ever.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    return;
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // Browsers from 2024 on read and write the JSON forms themselves; older ones get
  // the same conversion by hand.
  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    json.challenge = toBytes(json.challenge);
    json.user.id = toBytes(json.user.id);
    (json.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return json;
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    json.challenge = toBytes(json.challenge);
    (json.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return json;
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") {
      return credential.toJSON();
    }
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = r.userHandle ? toText(r.userHandle) : null;
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: response
    };
  }

  function post(url, csrf, body) {
    var headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") !== 0) {
        // A page instead of an answer: sign in again, confirm it is you, an error page.
        window.location.assign(response.url);
        return new Promise(function () {});
      }
      return response.json().then(function (answer) {
        if (answer.redirect) {
          window.location.assign(answer.redirect);
          return new Promise(function () {});
        }
        if (!response.ok) {
          throw new Error(answer.error || "The passkey could not be used. Try again.");
        }
        return answer;
      });
    });
  }

  function message(error) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out. Try again.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This passkey is already added to your account.";
    }
    if (error && error.name === "SecurityError") {
      return "Passkeys work only at this site's own address.";
    }
    return (error && error.message) || "The passkey could not be used. Try again.";
  }

  function run(button, status) {
    var creating = button.getAttribute("data-passkey") === "create";
    var csrf = button.getAttribute("data-csrf");
    button.disabled = true;
    status.textContent = "Waiting for your passkey…";
    status.classList.remove("passkey-error");
    post(button.getAttribute("data-options"), csrf)
      .then(function (options) {
        return creating
          ? navigator.credentials.create({ publicKey: creationOptions(options) })
          : navigator.credentials.get({ publicKey: requestOptions(options) });
      })
      .then(function (credential) {
        var nameField = document.getElementById(button.getAttribute("data-name-field") || "");
        var remember = document.getElementById("remember_me");
        return post(button.getAttribute("data-answer"), csrf, {
          credential: credentialJSON(credential),
          name: nameField ? nameField.value : "",
          next: button.getAttribute("data-next") || undefined,
          remember_me: remember ? remember.checked : false
        });
      })
      .catch(function (error) {
        status.textContent = message(error);
        status.classList.add("passkey-error");
        button.disabled = false;
      });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-passkey]"), function (button) {
    var section = button.closest(".passkey-action");
    var status = section.querySelector(".passkey-status");
    button.addEventListener("click", function () { run(button, status); });
    section.hidden = false;
  });
})();
