"""Help for the browser tests: Debian's Chromium under Playwright, and a watch on every page
for Content-Security-Policy violations (the fixtures ``csp``, ``playwright`` and ``browser``
are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Runs in every page before its own scripts; a violation reports through an exposed
# binding, which survives navigations and needs no eval (the policy forbids it).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


class CspWatch:
    """Collects the CSP violations of browser contexts: events and console reports."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def attach(self, context) -> None:
        context.expose_binding("__cspViolation", lambda _source, text: self.violations.append(text))
        context.add_init_script(CSP_LISTENER)
        context.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)
