// Copy buttons: the text stays selectable without script; with it, a button copies it.
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  var field = document.getElementById(button.getAttribute('data-copy'));
  if (!field || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = 'Copied';
      setTimeout(function () {
        button.textContent = 'Copy link';
      }, 2000);
    });
  });
});
