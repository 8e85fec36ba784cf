// Small improvements for every page; without JavaScript the pages work the same.
//  - <time datetime="..."> elements, written in UTC by the server, are shown in the
//    visitor's own time zone, and those marked data-relative also as "5 minutes ago".
//  - Each password field gets a button that shows or hides what was typed; the field
//    keeps the focus the browser gave it (after a form error, the first field at fault).
//  - Buttons marked data-copy="ID" copy that element's text (without its spaces).
(function () {
  "use strict";

  function localTimes() {
    if (!window.Intl || !Intl.DateTimeFormat) {
      return;
    }
    var lang = document.documentElement.lang || undefined;
    var absolute = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    var relative = Intl.RelativeTimeFormat
      ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" })
      : null;
    var units = [
      ["year", 31536000], ["month", 2592000], ["week", 604800],
      ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]
    ];
    Array.prototype.forEach.call(document.querySelectorAll("time[datetime]"), function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) {
        return;
      }
      var text = absolute.format(when);
      el.title = text;
      if (relative && el.hasAttribute("data-relative")) {
        var seconds = (when.getTime() - Date.now()) / 1000;
        for (var i = 0; i < units.length; i++) {
          if (Math.abs(seconds) >= units[i][1] || units[i][0] === "second") {
            var ago = relative.format(Math.round(seconds / units[i][1]), units[i][0]);
            text = Math.abs(seconds) < 45 ? relative.format(0, "second") : ago;
            break;
          }
        }
      }
      el.textContent = text;
    });
  }

  function passwordToggles() {
    var fields = document.querySelectorAll('input[type="password"]');
    Array.prototype.forEach.call(fields, function (input) {
      if (!input.id) {
        return;
      }
      // A toggle: its name stays ("Show" and the field's label), aria-pressed says
      // whether the text is shown.
      var button = document.createElement("button");
      button.type = "button";
      button.className = "password-toggle";
      button.setAttribute("aria-controls", input.id);
      button.setAttribute("aria-pressed", "false");
      button.appendChild(document.createTextNode(document.body.dataset.showLabel || "Show"));
      var label = document.querySelector('label[for="' + input.id + '"]');
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " " + (label ? label.textContent.trim().toLowerCase() : "password");
      button.appendChild(hidden);
      button.addEventListener("click", function () {
        var show = input.type === "password";
        input.type = show ? "text" : "password";
        button.setAttribute("aria-pressed", show ? "true" : "false");
      });
      // The form is sent with the field hidden again, so no browser stores it as text.
      if (input.form) {
        input.form.addEventListener("submit", function () { input.type = "password"; });
      }
      // Moving a focused field loses its focus: it is given back.
      var focused = document.activeElement === input;
      var wrapper = document.createElement("div");
      wrapper.className = "password-field";
      input.parentNode.insertBefore(wrapper, input);
      wrapper.appendChild(input);
      wrapper.appendChild(button);
      if (focused) {
        input.focus();
      }
    });
  }

  function copyButtons() {
    if (!navigator.clipboard || !navigator.clipboard.writeText) {
      return;
    }
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) {
        return;
      }
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent.replace(/\s+/g, "")).then(function () {
          button.textContent = button.getAttribute("data-copied") || label;
          window.setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
  }

  localTimes();
  passwordToggles();
  copyButtons();
})();
