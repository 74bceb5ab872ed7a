"""Loading plugins and collecting what they register.

The built-in plugins are registered first, then every installed
distribution's ``melodynet`` entry points. A plugin that fails to import,
uses an unknown hook, raises, or registers a taken name is reported once as
a one-line warning and marked failed; everything else keeps working.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from melodynet import hookspecs
from melodynet.errors import MelodynetError, PluginWarning, one_line, warn
from melodynet.hookspecs import BundleSpec, EncodingSpec, ModelSpec, ReaderSpec, WriterSpec

if TYPE_CHECKING:
    import click

DEFAULT_PLUGINS = (
    "melodynet.default_plugins.encodings",
    "melodynet.default_plugins.models",
    "melodynet.default_plugins.readers",
    "melodynet.default_plugins.writers",
    "melodynet.default_plugins.renderers",
)
ENTRY_POINT_GROUP = "melodynet"
LOAD_ENV = "MELODYNET_LOAD_PLUGINS"
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*$")
_SUFFIX_RE = re.compile(r"^\.[a-z0-9]+$")


@dataclass
class PluginInfo:
    """One loaded (or failed) plugin, as `melodynet plugins` shows it."""

    name: str
    distribution: str
    version: str
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def status(self) -> str:
        return "failed" if self.error else "ok"

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "hooks": self.hooks,
            "provides": self.provides,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class Provided:
    """A registered spec and the plugin that registered it."""

    spec: Any
    plugin: str


@dataclass
class Registry:
    plugins: list[PluginInfo] = field(default_factory=list)
    models: dict[str, Provided] = field(default_factory=dict)
    encodings: dict[str, Provided] = field(default_factory=dict)
    readers: dict[str, Provided] = field(default_factory=dict)
    writers: dict[str, Provided] = field(default_factory=dict)
    bundles: dict[str, Provided] = field(default_factory=dict)
    """Pretrained bundles by name; each spec's ``path`` is absolute."""
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    manager: pluggy.PluginManager | None = None

    def model(self, name: str) -> ModelSpec:
        return self._lookup("models", "model", name).spec

    def encoding(self, name: str) -> EncodingSpec:
        return self._lookup("encodings", "encoding", name).spec

    def model_plugin(self, name: str) -> PluginInfo:
        plugin = self._lookup("models", "model", name).plugin
        return next(p for p in self.plugins if p.name == plugin)

    def reader(self, suffix: str) -> ReaderSpec | None:
        found = self.readers.get(suffix.lower())
        return found.spec if found else None

    def writer(self, suffix: str) -> WriterSpec | None:
        found = self.writers.get(suffix.lower())
        return found.spec if found else None

    def bundle(self, name: str) -> BundleSpec | None:
        """The registered bundle called ``name``, or None."""
        found = self.bundles.get(name)
        return found.spec if found else None

    def bundle_plugin(self, name: str) -> PluginInfo:
        plugin = self.bundles[name].plugin
        return next(p for p in self.plugins if p.name == plugin)

    def _lookup(self, table: str, kind: str, name: str) -> Provided:
        entries: dict[str, Provided] = getattr(self, table)
        name = self.aliases.get(table, {}).get(name, name)
        if name not in entries:
            valid = ", ".join(sorted(entries)) or "none installed"
            raise MelodynetError(f"unknown {kind} {name!r}; choose one of: {valid}")
        return entries[name]


def _warn(message: str) -> None:
    warn(message, PluginWarning)


def _wanted_plugins() -> set[str] | None:
    """Names (entry point or distribution) that MELODYNET_LOAD_PLUGINS allows, None for all."""
    value = os.environ.get(LOAD_ENV)
    if value is None:
        return None
    return {item.strip() for item in value.split(",") if item.strip()}


def _error_text(exc: BaseException) -> str:
    """'ValueError: what it says' on one line (the type alone when it says nothing)."""
    text = one_line(exc)
    return text if text == type(exc).__name__ else f"{type(exc).__name__}: {text}"


def _register_plugins(pm: pluggy.PluginManager, registry: Registry) -> None:
    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        registry.plugins.append(PluginInfo(module_name, "melodynet", _own_version(), builtin=True))

    wanted = _wanted_plugins()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist else ""
        if wanted is not None and ep.name not in wanted and dist not in wanted:
            continue
        info = PluginInfo(ep.name, dist, ep.dist.version if ep.dist else "", builtin=False)
        registry.plugins.append(info)
        if pm.has_plugin(ep.name):
            info.error = f"another plugin is already named {ep.name!r}"
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # a broken plugin must not break melodynet
            info.error = f"could not load {ep.value}: {_error_text(exc)}"
            continue
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            pm.unregister(name=ep.name)
            info.error = _unknown_hooks(pm, plugin) or _error_text(exc)


def _unknown_hooks(pm: pluggy.PluginManager, plugin: Any) -> str:
    """'unknown hook 'register_model' (did you mean 'register_models'?)' for misspelt hooks."""
    known = [name for name in dir(hookspecs) if name.startswith("register_")]
    found = []
    for name in dir(plugin):
        if pm.parse_hookimpl_opts(plugin, name) is not None and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            found.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return f"unknown hook {', '.join(found)}" if found else ""


def _own_version() -> str:
    from melodynet import __version__

    return __version__


def _collect(pm: pluggy.PluginManager, registry: Registry, cli: click.Group | None) -> None:
    infos = {p.name: p for p in registry.plugins}
    for info in registry.plugins:
        plugin = pm.get_plugin(info.name)
        if plugin is not None:
            info.hooks = sorted(
                caller.name for caller in pm.get_hookcallers(plugin) or [] if caller.name
            )

    def make_register(table: str, kind: str, plugin_name: str) -> Callable[[Any], None]:
        def register(spec: Any) -> None:
            if table == "bundles":
                spec = _absolute(spec, pm.get_plugin(plugin_name))
            _add(registry, table, kind, spec, plugin_name)
            infos[plugin_name].provides.append(f"{kind}:{_label(table, spec)}")

        return register

    hooks = [
        ("register_models", "models", "model"),
        ("register_encodings", "encodings", "encoding"),
        ("register_readers", "readers", "reader"),
        ("register_writers", "writers", "writer"),
        ("register_bundles", "bundles", "bundle"),
    ]
    for hook_name, table, kind in hooks:
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            info = infos[impl.plugin_name]
            if info.error:
                continue
            kwargs = {"register": make_register(table, kind, impl.plugin_name)}
            _call(impl, kwargs, info)
    if cli is not None:
        _add_commands(registry, cli)
    for info in registry.plugins:
        if info.error:
            _drop(registry, info.name)
            _warn(
                f"plugin {info.name!r} ({info.distribution or 'no distribution'}) failed: "
                f"{info.error}"
            )


def _call(impl: pluggy.HookImpl, kwargs: dict[str, Any], info: PluginInfo) -> None:
    try:
        impl.function(*(kwargs[arg] for arg in impl.argnames))
    except Exception as exc:
        info.error = f"{impl.function.__name__} raised {_error_text(exc)}"


def _label(table: str, spec: Any) -> str:
    if table in ("models", "encodings", "bundles"):
        return spec.name
    return f"{spec.name} {','.join(spec.suffixes)}"


def _absolute(spec: Any, plugin: Any) -> Any:
    """The BundleSpec with its path made absolute: a relative path is taken from the
    directory of the plugin's module."""
    import dataclasses
    from pathlib import Path

    if not isinstance(spec, BundleSpec):
        return spec  # _add names the wrong type
    if not isinstance(spec.path, str | Path) or not str(spec.path):
        raise TypeError(f"bundle {spec.name!r}: path must be a directory path, not {spec.path!r}")
    path = Path(spec.path)
    if not path.is_absolute():
        where = getattr(plugin, "__file__", None)
        if where is None:
            raise ValueError(
                f"bundle {spec.name!r}: path {str(path)!r} is relative and the plugin has no "
                "module file to take it from; use Path(__file__).parent / ..."
            )
        path = Path(where).resolve().parent / path
    return dataclasses.replace(spec, path=path)


def _add(registry: Registry, table: str, kind: str, spec: Any, plugin: str) -> None:
    expected = {
        "models": ModelSpec,
        "encodings": EncodingSpec,
        "readers": ReaderSpec,
        "writers": WriterSpec,
        "bundles": BundleSpec,
    }[table]
    if not isinstance(spec, expected):
        raise TypeError(f"register expects a {expected.__name__}, got {type(spec).__name__}")
    if table == "models":
        from melodynet.params import check_declarations

        check_declarations(spec.params)
    entries: dict[str, Provided] = getattr(registry, table)
    aliases = registry.aliases.setdefault(table, {})
    if table in ("models", "encodings", "bundles"):
        keys = [spec.name]
        names = [spec.name, *getattr(spec, "aliases", ())]
        for name in names:
            if not _NAME_RE.match(name):
                raise ValueError(f"invalid {kind} name {name!r} (use lower-case words and '-')")
            if name in entries or name in aliases:
                owner = entries[name].plugin if name in entries else aliases[name]
                raise ValueError(f"{kind} {name!r} is already provided by {owner}")
        for alias in getattr(spec, "aliases", ()):
            aliases[alias] = spec.name
    else:
        keys = [s.lower() for s in spec.suffixes]
        for suffix in keys:
            if not _SUFFIX_RE.match(suffix):
                raise ValueError(f"invalid suffix {suffix!r} (expected a dot and letters)")
            if suffix in entries:
                raise ValueError(
                    f"{kind} for {suffix} is already provided by {entries[suffix].plugin}"
                )
    for key in keys:
        entries[key] = Provided(spec, plugin)


def _drop(registry: Registry, plugin: str) -> None:
    """Forget everything a failed plugin registered before it failed."""
    for table in ("models", "encodings", "readers", "writers", "bundles"):
        entries: dict[str, Provided] = getattr(registry, table)
        for key in [k for k, v in entries.items() if v.plugin == plugin]:
            del entries[key]
    for table, aliases in registry.aliases.items():
        entries = getattr(registry, table)
        for alias in [a for a, target in aliases.items() if target not in entries]:
            del aliases[alias]


def load_registry(cli: click.Group | None = None, plugins: Sequence[Any] = ()) -> Registry:
    """Load every plugin afresh (reads MELODYNET_LOAD_PLUGINS now).

    ``plugins``: objects or modules with hook implementations to register as well, after
    the installed ones, each named by its class or module (tests use this to try a plugin
    without installing it)."""
    pm = pluggy.PluginManager("melodynet")
    pm.add_hookspecs(hookspecs)
    registry = Registry(manager=pm)
    _register_plugins(pm, registry)
    for plugin in plugins:
        name = getattr(plugin, "__name__", type(plugin).__name__)
        registry.plugins.append(PluginInfo(name, "", "", builtin=False))
        try:
            pm.register(plugin, name=name)
            pm.check_pending()
        except (ValueError, pluggy.PluginValidationError) as exc:
            registry.plugins[-1].error = _unknown_hooks(pm, plugin) or one_line(exc)
    _collect(pm, registry, cli)
    return registry


_loaded: Registry | None = None


def registry(cli: click.Group | None = None) -> Registry:
    """The process-wide registry, loaded on first use; plugin commands are added to ``cli``
    (once per group), whether the registry is loaded now or was loaded before."""
    global _loaded
    if _loaded is None:
        _loaded = load_registry(cli)
        if cli is not None:
            _commands_added.add(id(cli))
    elif cli is not None and id(cli) not in _commands_added:
        _add_commands(_loaded, cli)
        _commands_added.add(id(cli))
    return _loaded


_commands_added: set[int] = set()


def _add_commands(registry: Registry, cli: click.Group) -> None:
    """Let every working plugin add its commands to ``cli``."""
    assert registry.manager is not None
    infos = {p.name: p for p in registry.plugins}
    for impl in registry.manager.hook.register_commands.get_hookimpls():
        info = infos[impl.plugin_name]
        if not info.error:
            _call(impl, {"cli": cli}, info)
