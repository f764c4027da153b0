// « Afficher » after each password field (forms.ts revealButton): shows what was typed, hides it again. Every page
// works without this file: the buttons stay hidden.
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
})();
