"""The regulator console: server-rendered pages behind the API's tokens and roles, in Chinese
and English, with every asset (CSS, SVG charts) served by the service itself."""
