// Small page actions, bound here rather than in on*="" attributes (the Content-Security-Policy
// allows no inline script): a button that prints the page, a select that submits its form.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-action=print]");
  if (button) { event.preventDefault(); window.print(); }
});
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) field.form.submit();
});
