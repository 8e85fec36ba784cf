// Download or print the recovery codes shown on the page. Without JavaScript the page
// works the same, without these two buttons (the codes can be copied or printed).
(function () {
  "use strict";
  var list = document.getElementById("recovery-codes");
  var actions = document.getElementById("recovery-code-actions");
  if (!list || !actions) {
    return;
  }
  var codes = Array.prototype.map.call(list.querySelectorAll("li"), function (item) {
    return item.textContent.trim();
  });
  document.getElementById("download-recovery-codes").addEventListener("click", function () {
    var text = "Recovery codes for " + location.host + " (each works once)\n\n" +
      codes.join("\n") + "\n";
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    link.download = "recovery-codes-" + location.host + ".txt";
    document.body.appendChild(link);
    link.click();
    URL.revokeObjectURL(link.href);
    link.remove();
  });
  document.getElementById("print-recovery-codes").addEventListener("click", function () {
    window.print();
  });
  actions.hidden = false;
})();
