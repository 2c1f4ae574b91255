"""`Experiment`: run a notebook's async functions on Modal, or in-process when Modal is unavailable.

Usage (the seed notebook's shape):

    run = Experiment('Ex 2.10: Ablate red', project='ex-preppy')
    run.image = PythonImage(freeze(all=True), project_packages())   # or a modal.Image
    run.before_each(logging_config.apply)

    @run.thither(env={'WANDB_API_KEY': key}, cpu=1, timeout=3600)
    async def train(...): ...

    model = await train(...)                  # opens a session implicitly
    async with run():                         # or share one session between calls
        models = await run.sweep(train, range(60), dopesheet, regs, seed_arg='seed')

Design decisions:
- The backend is chosen once, at construction (`backend.choose_backend`), and announced with one
  log line on logger `mini.experiment` per explicit session, or once for implicit use.
- Local execution awaits the undecorated function in this process, between the same guards as
  remotely; arguments and results are never pickled or copied, so a returned model is the very
  object the function built.
- The Modal App is built lazily and deterministically from the registrations, image and volumes:
  `run.app` and `run.modal_function(name)` work offline (nothing is sent until a session starts) and
  are rebuilt only when that configuration changes. Each session runs the app ephemerally
  (`app.run()`) with `modal.enable_output()`, so container logs stream into the notebook.
- Calling a decorated function outside `async with run():` opens a session just for that call, so
  top-level `await train(...)` works on both backends. Sessions do not nest; concurrent remote calls
  should share one explicit session.
- `env=` is passed to Modal (a secret of environment variables, `None` values dropped); it is not
  applied locally, where the notebook's own environment is already in effect.

Deliberately not done: detached or deployed apps, per-function guards, call-state tracking.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mini.experiment.backend import BackendChoice, choose_backend, require_modal_credentials
from mini.experiment.checkpoints import CheckpointStore, slugify
from mini.experiment.guards import Guards
from mini.experiment.image import PythonImage
from mini.experiment.remote import RemoteCall, ThitherSpec, check_options, modal_kwargs, remote_body
from utils.paths import runs_root

log = logging.getLogger('mini.experiment')


@dataclass(frozen=True)
class Session:
    """An open session of an experiment."""

    run_id: str
    """Random 8-hex-digit id of this session."""
    backend: BackendChoice
    """Where calls in this session run."""
    functions: Mapping[str, Any] = field(default_factory=dict)
    """Modal function handles by name (empty locally)."""
    specs: Mapping[str, ThitherSpec] = field(default_factory=dict)
    """The registrations the session's app was built from."""


class Experiment:
    """A named experiment whose `@thither` functions run on Modal or locally."""

    def __init__(self, name: str, project: str = '', *, backend: str | None = None):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f'Experiment name: expected a non-empty string, got {name!r}')
        if not isinstance(project, str):
            raise TypeError(f'Experiment project: expected a string, got {type(project).__name__}')
        self.name = name
        self.project = project
        self.app_name = f'{name} - {project}' if project else name
        self.slug = slugify(name)
        self.backend = choose_backend(backend)
        self.volumes: dict[str, Any] = {}
        self._image_source: Any = None
        self._built_image: Any = None
        self._guards = Guards()
        self._specs: dict[str, ThitherSpec] = {}
        self._wrappers: dict[str, Callable[..., Any]] = {}
        self._app: Any = None
        self._app_key: tuple | None = None
        self._modal_functions: dict[str, Any] = {}
        self._session: Session | None = None
        self._announced = False
        self._checkpoint_volume: Any = None

    def __repr__(self) -> str:
        return f'Experiment({self.app_name!r}, backend={self.backend.name!r})'

    # --- Configuration -------------------------------------------------------------------------

    @property
    def image(self) -> Any:
        """The default `modal.Image` for remote functions (None: Modal's default image)."""
        if isinstance(self._image_source, PythonImage):
            if self._built_image is None:
                self._built_image = self._image_source.build()
            return self._built_image
        return self._image_source

    @image.setter
    def image(self, value: Any) -> None:
        if value is not None and not isinstance(value, PythonImage):
            import modal

            if not isinstance(value, modal.Image):
                raise TypeError(
                    f'Experiment.image: expected a PythonImage or modal.Image, got {type(value).__name__}'
                )
        self._image_source = value
        self._built_image = None

    @property
    def image_recipe(self) -> PythonImage | None:
        """The `PythonImage` the image was built from, if it was given as one."""
        return self._image_source if isinstance(self._image_source, PythonImage) else None

    def before_each(self, cb: Callable[..., Any]) -> Callable[..., Any]:
        """Run `cb` before every call (see `guards` for the accepted signatures); returns `cb`."""
        self._guards.add('before', cb)
        return cb

    def after_each(self, cb: Callable[..., Any]) -> Callable[..., Any]:
        """Run `cb` after every call, also on failure; returns `cb`."""
        self._guards.add('after', cb)
        return cb

    def thither(self, fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Decorate an async function to run on this experiment's backend.

        Use bare (`@run.thither`) or with Modal function options (`@run.thither(cpu=1, env={...})`).
        Returns an async function with the same signature.
        """
        check_options(options)

        def register(f: Callable[..., Any]) -> Callable[..., Any]:
            spec = ThitherSpec(getattr(f, '__name__', repr(f)), f, options)

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self._invoke(spec, RemoteCall(args, kwargs))

            wrapper.__name__, wrapper.__qualname__ = f.__name__, f.__qualname__
            wrapper.__doc__, wrapper.__wrapped__ = f.__doc__, f  # type: ignore[attr-defined]
            # Re-running a notebook cell replaces the registration instead of adding a second one.
            self._specs[spec.name] = spec
            self._wrappers[spec.name] = wrapper
            return wrapper

        return register if fn is None else register(fn)

    # --- Modal app (offline-inspectable) -------------------------------------------------------

    @property
    def app(self) -> Any:
        """The `modal.App` for the current configuration, built without contacting Modal."""
        key = (self._image_source, tuple(self.volumes.items()), tuple(self._specs.items()))
        if self._app is None or self._app_key != key:
            import modal

            app = modal.App(self.app_name)
            functions = {}
            for name, spec in self._specs.items():
                kwargs = modal_kwargs(spec, self.image, self.volumes)
                functions[name] = app.function(**kwargs)(remote_body(spec.fn, self._guards))
            self._app, self._app_key, self._modal_functions = app, key, functions
        return self._app

    def modal_function(self, fn: Callable[..., Any] | str) -> Any:
        """The registered `modal.Function` for a decorated function (or its name)."""
        name = self._spec_for(fn).name
        self.app  # noqa: B018 - (re)builds the functions when the configuration changed
        return self._modal_functions[name]

    def modal_options(self, fn: Callable[..., Any] | str) -> dict[str, Any]:
        """The keyword arguments passed to `app.function(...)` for a decorated function."""
        return modal_kwargs(self._spec_for(fn), self.image, self.volumes)

    def _spec_for(self, fn: Callable[..., Any] | str) -> ThitherSpec:
        name = fn if isinstance(fn, str) else getattr(fn, '__name__', None)
        if name in self._specs and (isinstance(fn, str) or self._wrappers[name] is fn):
            return self._specs[name]
        raise KeyError(f'{fn!r} is not a function decorated with @thither on {self!r}')

    # --- Sessions and calls --------------------------------------------------------------------

    def __call__(self) -> Any:
        """`async with run():` opens a session shared by the calls inside it."""
        return self._open_session(explicit=True)

    def _announce(self, explicit: bool) -> None:
        if explicit or not self._announced:
            where = 'on Modal' if self.backend.name == 'modal' else 'locally, in this process'
            log.info('Experiment %r runs %s (%s)', self.app_name, where, self.backend.reason)
            self._announced = True

    @asynccontextmanager
    async def _open_session(self, *, explicit: bool) -> AsyncIterator[Session]:
        if self._session is not None:
            raise RuntimeError(f'Experiment {self.app_name!r} is already running; sessions do not nest')
        if self.backend.name == 'modal':
            await require_modal_credentials()  # fail before announcing a backend that cannot start
        self._announce(explicit)
        run_id = secrets.token_hex(4)
        if self.backend.name == 'local':
            self._session = Session(run_id, self.backend)
            try:
                yield self._session
            finally:
                self._session = None
            return
        import modal

        app = self.app
        with modal.enable_output():
            async with app.run():
                self._session = Session(run_id, self.backend, dict(self._modal_functions), dict(self._specs))
                try:
                    yield self._session
                finally:
                    self._session = None

    async def _invoke(self, spec: ThitherSpec, call: RemoteCall) -> Any:
        if self.backend.name == 'local':
            if self._session is None:
                self._announce(explicit=False)
            return await self._guards.run(spec.fn, call.args, call.kwargs)
        if self._session is not None:
            return await self._remote_handle(spec).remote.aio(call)
        async with self._open_session(explicit=False):
            return await self._remote_handle(spec).remote.aio(call)

    def _remote_handle(self, spec: ThitherSpec) -> Any:
        assert self._session is not None
        if self._session.specs.get(spec.name) is not spec:
            raise RuntimeError(
                f'{spec.name!r} was (re)registered after the session started; leave and re-enter `async with run():`'
            )
        return self._session.functions[spec.name]

    async def sweep(
        self,
        fn: Callable[..., Any],
        seeds: Iterable[Any],
        /,
        *args: Any,
        seed_arg: str = 'seed',
        **kwargs: Any,
    ) -> list[Any]:
        """Call `fn(*args, **kwargs, <seed_arg>=seed)` for every seed; results in seed order.

        Locally the calls run one after another. On Modal they fan out with `Function.map`; cap the
        number of containers with the decorator option, e.g. `@run.thither(max_containers=20)`.
        """
        spec = self._spec_for(fn)
        if seed_arg in kwargs:
            raise ValueError(f'sweep: {seed_arg!r} is set per seed; do not pass it as a keyword argument')
        calls = [RemoteCall(args, {**kwargs, seed_arg: seed}) for seed in seeds]
        if self.backend.name == 'local':
            return [await self._invoke(spec, call) for call in calls]
        if self._session is not None:
            return [r async for r in self._remote_handle(spec).map.aio(calls, order_outputs=True)]
        async with self._open_session(explicit=False):
            return [r async for r in self._remote_handle(spec).map.aio(calls, order_outputs=True)]

    # --- Helpers bound to the backend ----------------------------------------------------------

    def hither(self, callback: Callable[..., Any]) -> Any:
        """`async with run.hither(cb) as stub:` lets remote code call `cb` here (see `mini.hither`)."""
        from mini.hither import hither

        return hither(callback, backend=self.backend.name)

    def checkpoints(self, *, root: str | Path | None = None, mount: str = '/checkpoints') -> CheckpointStore:
        """A checkpoint store for this experiment on the chosen backend.

        The notebook's own saves go to `root` (default `<runs root>/<slug>`, see `utils.paths.runs_root`)
        on both backends. On Modal, containers save to the Volume named after the experiment slug,
        mounted at `mount` (added to `run.volumes`; do this before the session), and the notebook
        reads from the Volume the keys it does not have locally.
        """
        local = Path(root) if root is not None else runs_root() / self.slug
        if self.backend.name == 'local':
            return CheckpointStore.local(local)
        import modal

        volume_name = self.slug[:64]
        existing = self.volumes.get(mount)
        if existing is None:
            existing = self.volumes[mount] = modal.Volume.from_name(volume_name, create_if_missing=True)
            self._checkpoint_volume = existing
        elif existing is not self._checkpoint_volume:
            raise ValueError(f'checkpoints: mount {mount!r} already holds another volume in run.volumes')
        return CheckpointStore.on_volume(volume_name, root=local, mount=mount)
