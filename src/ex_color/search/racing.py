"""A search that is not fooled by luck: candidates race over seeds, and only the best earn more seeds.

Scoring every candidate on a few seeds and keeping the best picks the luckiest draw (Ex 2.10.2's
pick did worse on fresh seeds). Racing (successive halving) spends the seeds where they decide:
Optuna proposes many candidates, each is scored on the first rung's few seeds, the best `keep` of
them go on to the next rung's new seeds, and so on; a candidate's standing is always its pass rate
over *every* seed it has run, so a lucky start is diluted as soon as it earns more seeds.

`race(study, suggest, rungs, evaluate)`:

* `suggest(trial) -> params`: Optuna's proposal, one candidate (the study's sampler learns from the
  first-rung scores it is told);
* `rungs`: `Rung(keep, seeds)` in order; the first rung's `keep` is how many candidates are proposed,
  each later `keep` how many of the best go on; every rung's seeds are new (never used by a rung
  before it, so a candidate's seeds are all distinct);
* `evaluate(candidates, seeds) -> [[passed per seed] per candidate]`: trains every candidate (a
  `Candidate`: its trial's ``number`` and its ``params``) on every seed (one engine run, in a
  notebook) and says which seeds met every threshold.

`race_async` is the same race with an `evaluate` to await (a notebook's trainer, which may send
members to Modal). Both return a `Race`: every candidate's params and its record per rung (passes and seeds), the order
in which they finished, and the winner.

Design decisions:
- The ranking statistic is the pass rate over all seeds run so far; ties go to the candidate with
  more seeds, then to the earlier proposal (deterministic).
- Every proposal is asked for before the race starts; Optuna is told each candidate's first-rung
  pass rate (the one score every candidate has) when the race ends, so the sampler's picture is never
  biased by which candidates were promoted. A race that raises marks its trials failed.
- Every rung a candidate ran is recorded on its trial as user attributes (``rung<i>_passed``,
  ``rung<i>_seeds``), so a stored study can be read back with Optuna's own tools.

Deliberately not here: what a candidate is (the notebook's `suggest` declares the search space), how
it trains, or the final verification on fresh seeds (a race's seeds are spent on choosing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ['Candidate', 'Race', 'Rung', 'race', 'race_async', 'sobol_study']


@dataclass(frozen=True)
class Rung:
    """One round of the race: how many candidates run, and on which new seeds."""

    keep: int
    seeds: tuple[int, ...]


@dataclass
class Candidate:
    """One proposal and what it has run so far."""

    number: int
    """The Optuna trial's number."""
    params: Mapping[str, Any]
    passed: list[int] = field(default_factory=list)
    """Seeds that met every threshold, per rung run."""
    seeds: list[int] = field(default_factory=list)
    """Seeds run, per rung run."""

    @property
    def rate(self) -> float:
        """Pass rate over every seed run so far."""
        return sum(self.passed) / sum(self.seeds)

    @property
    def n(self) -> int:
        return sum(self.seeds)


@dataclass(frozen=True)
class Race:
    """Every candidate, in the order they finished (best first)."""

    standings: tuple[Candidate, ...]

    @property
    def winner(self) -> Candidate:
        return self.standings[0]


def _check(rungs: Sequence[Rung]) -> None:
    if not rungs:
        raise ValueError('race: no rungs given')
    seen: set[int] = set()
    for i, r in enumerate(rungs):
        if isinstance(r.keep, bool) or not isinstance(r.keep, int) or r.keep < 1:
            raise ValueError(f'race: rung {i} must keep at least one candidate, got keep={r.keep!r}')
        if i and r.keep > rungs[i - 1].keep:
            raise ValueError(
                f'race: rung {i} keeps {r.keep} candidates, more than rung {i - 1} ran ({rungs[i - 1].keep})'
            )
        if not r.seeds or len(set(r.seeds)) != len(r.seeds):
            raise ValueError(f'race: rung {i} needs distinct seeds, got {list(r.seeds)}')
        reused = sorted(seen & set(r.seeds))
        if reused:
            raise ValueError(
                f'race: rung {i} reuses seeds {reused[:5]} of an earlier rung; each rung runs new seeds'
            )
        seen |= set(r.seeds)


def _standing(c: Candidate) -> tuple[float, int, int]:
    return (-c.rate, -c.n, c.number)


def _race(
    study: Any, suggest: Callable[[Any], Mapping[str, Any]], rungs: Sequence[Rung]
) -> Generator[tuple[list[Candidate], tuple[int, ...]], Sequence[Sequence[bool]], Race]:
    """The race as a generator: yields (candidates, seeds) per rung, is sent back which seeds
    passed, returns the `Race`. `race` and `race_async` drive it."""
    _check(rungs)
    trials = [study.ask() for _ in range(rungs[0].keep)]
    candidates = [Candidate(t.number, dict(suggest(t))) for t in trials]
    try:
        running = list(candidates)
        for i, rung in enumerate(rungs):
            if i:
                running = sorted(running, key=_standing)[: rung.keep]
            results = yield list(running), rung.seeds
            if len(results) != len(running) or any(len(r) != len(rung.seeds) for r in results):
                raise ValueError(
                    f'race: evaluate returned {[len(r) for r in results]} results for {len(running)} '
                    f'candidates on {len(rung.seeds)} seeds in rung {i}'
                )
            for c, passed in zip(running, results, strict=True):
                c.passed.append(sum(bool(p) for p in passed))
                c.seeds.append(len(rung.seeds))
    except BaseException:
        from optuna.trial import TrialState

        for t in trials:  # no proposal is left running in the study
            study.tell(t, state=TrialState.FAIL)
        raise
    for t, c in zip(trials, candidates, strict=True):
        for i, (k, n) in enumerate(zip(c.passed, c.seeds, strict=True)):
            t.set_user_attr(f'rung{i}_passed', k)
            t.set_user_attr(f'rung{i}_seeds', n)
        study.tell(t, c.passed[0] / c.seeds[0])  # the first rung: the one score every candidate has
    return Race(tuple(sorted(candidates, key=_standing)))


def _send(steps: Generator[Any, Any, Race], results: Any) -> tuple[Any, Race | None]:
    """One rung's results into the race: the next request, or the finished `Race`."""
    try:
        return steps.send(results), None
    except StopIteration as done:
        return None, done.value


def race(
    study: Any,
    suggest: Callable[[Any], Mapping[str, Any]],
    rungs: Sequence[Rung],
    evaluate: Callable[[list[Candidate], tuple[int, ...]], Sequence[Sequence[bool]]],
) -> Race:
    """Race `rungs[0].keep` proposals of `study` over `rungs` (see the module docstring)."""
    steps = _race(study, suggest, rungs)
    request = next(steps)
    while True:
        try:
            results = evaluate(*request)
        except BaseException as e:
            steps.throw(e)  # the race marks its trials failed and re-raises
            raise
        request, race_ = _send(steps, results)
        if race_ is not None:
            return race_


async def race_async(
    study: Any,
    suggest: Callable[[Any], Mapping[str, Any]],
    rungs: Sequence[Rung],
    evaluate: Callable[[list[Candidate], tuple[int, ...]], Awaitable[Sequence[Sequence[bool]]]],
) -> Race:
    """`race` with an `evaluate` to await (a notebook's trainer, which may send members to Modal)."""
    steps = _race(study, suggest, rungs)
    request = next(steps)
    while True:
        try:
            results = await evaluate(*request)
        except BaseException as e:
            steps.throw(e)
            raise
        request, race_ = _send(steps, results)
        if race_ is not None:
            return race_


def sobol_study(name: str, *, seed: int = 0) -> Any:
    """An in-memory Optuna study (maximising) whose sampler proposes a scrambled Sobol sequence, seeded:
    a race asks for every first-rung proposal before any is scored, so a space-filling spread is what a
    proposer can give it (Optuna marks `QMCSampler` experimental; that warning and Optuna's per-trial
    log lines are silenced here)."""
    import warnings

    from ex_color.search.study import optuna_module

    optuna = optuna_module()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.QMCSampler(scramble=True, seed=seed)
    return optuna.create_study(study_name=name, direction='maximize', sampler=sampler)
