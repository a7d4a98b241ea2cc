// One tap copies a notice's ready-to-paste text (for personal WeChat groups, which have no robot).
// The clipboard API needs a secure context; on a plain-HTTP intranet the text is selected and
// copied the old way, or left selected for the user to copy.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var box = document.getElementById(button.getAttribute("data-copy"));
  var said = button.parentNode.querySelector(".copy-done");
  if (!box) return;
  function done(ok) {
    if (said) said.textContent = button.getAttribute(ok ? "data-copied" : "data-copy-failed");
  }
  function fallback() {
    box.focus();
    box.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    done(ok);
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(box.value).then(function () { done(true); }, fallback);
  } else {
    fallback();
  }
});
