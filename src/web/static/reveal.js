// « Afficher » after each password field (forms.ts revealButton): shows what was typed, hides it again; and the error
// summary's links (forms.ts errorSummary) bring the whole field into view. Every page works without this file: the
// buttons stay hidden, a link scrolls to its field (app.css scroll-margin-top).
(function () {
  'use strict';

  const buttons = Array.prototype.slice.call(document.querySelectorAll('button.reveal[aria-controls]'));
  buttons.forEach(function (button) {
    const input = document.getElementById(button.getAttribute('aria-controls'));
    if (!input) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      const shown = input.type === 'password';
      input.type = shown ? 'text' : 'password';
      button.setAttribute('aria-pressed', shown ? 'true' : 'false');
    });
    // Sent as a password field: browsers and password managers then treat it as one.
    if (input.form) {
      input.form.addEventListener('submit', function () {
        input.type = 'password';
        button.setAttribute('aria-pressed', 'false');
      });
    }
  });

  // A link of the error summary: the field's label, hint and error are above its input; the browser scrolls the input
  // itself to the top and leaves them out of view. Show the field from its top, then focus the input.
  Array.prototype.slice.call(document.querySelectorAll('#error-summary a[href^="#"]')).forEach(function (link) {
    link.addEventListener('click', function (e) {
      const input = document.getElementById(link.getAttribute('href').slice(1));
      const field = input?.closest('.field');
      if (!field) return;
      e.preventDefault();
      field.scrollIntoView({ block: 'start' });
      input.focus({ preventScroll: true });
    });
  });
})();
