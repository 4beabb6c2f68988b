"""The few-second cache every app process keeps for what desk pages show on every view."""

from supportdesk.core.caching import BriefCache, forget_all


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_value_is_reused_until_its_time_runs_out():
    now = [100.0]
    cache: BriefCache[str, int] = BriefCache(10, clock=lambda: now[0])
    compute = Counter()
    assert cache.get("a", compute) == 1
    now[0] = 109.9
    assert cache.get("a", compute) == 1
    now[0] = 110.0
    assert cache.get("a", compute) == 2


def test_keys_are_kept_apart_and_fresh_reads_recompute():
    cache: BriefCache[str, int] = BriefCache(10)
    compute = Counter()
    assert (cache.get("a", compute), cache.get("b", compute)) == (1, 2)
    assert cache.get("a", compute, fresh=True) == 3
    assert cache.get("a", compute) == 3


def test_forgetting_drops_every_cache_of_the_process():
    first: BriefCache[str, int] = BriefCache(10)
    second: BriefCache[str, int] = BriefCache(10)
    compute = Counter()
    first.get("a", compute)
    second.get("a", compute)
    forget_all()
    assert (first.get("a", compute), second.get("a", compute)) == (3, 4)


def test_a_committed_change_to_a_model_drops_the_caches_computed_from_it(clean_app, session):
    """Whatever commits the change (a page, the API, a command, a job), this process forgets at once;
    a change that is rolled back, or to another model, keeps the cache."""
    from supportdesk.accounts.models import Team, User
    from tests.factories import make_team

    teams: BriefCache[str, int] = BriefCache(10, depends_on=(Team,))
    users: BriefCache[str, int] = BriefCache(10, depends_on=(User,))
    compute = Counter()
    teams.get("a", compute)
    users.get("a", compute)
    session.add(Team(name="Rolled back"))
    session.flush()
    session.rollback()
    assert (teams.get("a", compute), users.get("a", compute)) == (1, 2)
    make_team(session, "Network")
    assert teams.get("a", compute) == 3
    assert users.get("a", compute) == 2
