// The copy button of a suggested reply: copies the (possibly edited) text of the textarea it names.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const area = document.getElementById(button.dataset.copy);
  area.select();
  const done = () => { button.textContent = "Gekopieerd"; };
  if (navigator.clipboard) navigator.clipboard.writeText(area.value).then(done, () => document.execCommand("copy") && done());
  else if (document.execCommand("copy")) done();
});
