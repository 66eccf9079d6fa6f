// Every page: the language menu switches as soon as a language is picked. Here rather than in an inline
// onchange handler, which the Content-Security-Policy forbids (docs/operations.md).
document.getElementById("lang-select")?.addEventListener("change", (event) => event.target.form.submit());
