"""Static files in production: WhiteNoise's compressed, hashed storage."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    """Hashed names (cached for a year by browsers) and gzip/brotli copies.

    JavaScript is not rewritten for `//# sourceMappingURL=` comments: the vendored, minified
    Chart.js names a source map that is not shipped, and a missing map must not stop
    `openiop collectstatic`. CSS `url()` and `@import` references are still rewritten.
    """

    patterns = tuple(
        (glob, rules)
        for glob, rules in CompressedManifestStaticFilesStorage.patterns
        if glob != "*.js"
    )
