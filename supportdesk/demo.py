"""Deterministic, realistic demo data: teams, categories, users and 300 tickets with conversations.

Every ticket is driven through the real services with the clock set to its moment in the past, so the
demo desk obeys the same life cycle, permissions and audit trail as a real one."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import Role, Team, User
from supportdesk.accounts.passwords import hash_password
from supportdesk.core import clock
from supportdesk.notifications.hooks import QUIET
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import Category

DEMO_PASSWORD = "demo1234"  # noqa: S105 - published demo credential
LOGINS_TEXT = (
    "Demo logins (password demo1234):\n"
    "  admin       admin@example.com\n"
    "  technician  tech@example.com\n"
    "  employee    employee@example.com"
)
TEAMS = ("Service Desk", "Network", "Hardware")
CATEGORIES = {
    "Accounts & passwords": "Service Desk",
    "Access requests": "Service Desk",
    "Email & calendar": "Service Desk",
    "Software": "Service Desk",
    "VPN & remote access": "Network",
    "Wi-Fi & network": "Network",
    "Laptops & desktops": "Hardware",
    "Printers & peripherals": "Hardware",
}
TECHNICIANS = (
    ("tech@example.com", "Sam Okafor", ("Service Desk", "Network")),
    ("priya.nair@example.com", "Priya Nair", ("Service Desk",)),
    ("lukas.weber@example.com", "Lukas Weber", ("Network",)),
    ("maria.santos@example.com", "Maria Santos", ("Hardware",)),
    ("tom.becker@example.com", "Tom Becker", ("Hardware", "Service Desk")),
)
FIRST_NAMES = (
    "Alex",
    "Jordan",
    "Chris",
    "Emma",
    "Noah",
    "Olivia",
    "Liam",
    "Ava",
    "Mia",
    "Ethan",
    "Zoe",
    "Ravi",
    "Fatima",
    "Kenji",
    "Sofia",
    "Mateo",
    "Hannah",
    "Omar",
    "Grace",
    "Leo",
)
LAST_NAMES = (
    "Taylor",
    "Brown",
    "Wilson",
    "Khan",
    "Murphy",
    "Garcia",
    "Chen",
    "Novak",
    "Rossi",
    "Schmidt",
    "Dubois",
    "Kowalski",
    "Jensen",
    "Silva",
    "Ahmed",
    "Walsh",
    "Lindqvist",
    "Moreau",
    "Ito",
    "Patel",
)


@dataclass(frozen=True)
class Scenario:
    category: str
    subjects: tuple[str, ...]
    description: str
    replies: tuple[tuple[str, str], ...]  # (who, text): who is "tech", "requester" or "note"
    priority: Priority = Priority.NORMAL


SCENARIOS = (
    Scenario(
        "Accounts & passwords",
        ("Locked out of my account", "Password expired and I can't reset it", "Can't log in after holiday"),
        "I tried to sign in this morning and after a few attempts it says my account is locked. "
        "I have a client call at 11 and need my files before then.",
        (
            (
                "tech",
                "Hi, I've unlocked the account and set a temporary password, which I'm sending to "
                "your phone by SMS. You'll be asked to choose a new one at sign-in.",
            ),
            ("requester", "Got it, I'm back in. Thanks for the quick help!"),
            ("note", "Lockout came from an old phone still syncing mail with the expired password."),
            (
                "tech",
                "Glad it works. If your phone keeps asking for the old password, remove and re-add "
                "the mail account on it.",
            ),
        ),
        Priority.HIGH,
    ),
    Scenario(
        "VPN & remote access",
        (
            "VPN disconnects every few minutes",
            "Cannot connect to VPN from home",
            "VPN very slow on hotel Wi-Fi",
        ),
        "Since yesterday the VPN client drops the connection every 5-10 minutes. I'm working from home "
        "on my own broadband. Error shown: 'The tunnel was closed by the remote gateway'.",
        (
            (
                "tech",
                "Thanks for the details. Could you tell me which VPN client version you have "
                "(Help > About) and whether it happens on a wired connection too?",
            ),
            ("requester", "Version 5.2.1. I tried with a cable and it still drops."),
            ("note", "Gateway logs show DPD timeouts for this user; 5.2.1 has the known keep-alive bug."),
            (
                "tech",
                "That version has a known keep-alive bug. I've pushed 5.3.0 to your laptop; please "
                "restart and let me know if the drops continue.",
            ),
            ("requester", "Updated and it's been stable all afternoon."),
        ),
    ),
    Scenario(
        "Printers & peripherals",
        (
            "Printer on 3rd floor jams constantly",
            "Can't print to the finance printer",
            "Scanner sends blank pages",
        ),
        "The printer by the kitchen on the 3rd floor jams on nearly every job and shows error 13.B2. "
        "Several of us have the same problem.",
        (
            (
                "tech",
                "I'll come up and take a look this afternoon. In the meantime the printer on the "
                "2nd floor (PRN-2-EAST) is available.",
            ),
            ("note", "Fuser unit worn out; ordered replacement part FM3-5945, ETA 2 days."),
            (
                "tech",
                "The fuser unit needs replacing; the part arrives in two days. I've put a sign on "
                "the printer.",
            ),
        ),
    ),
    Scenario(
        "Laptops & desktops",
        (
            "Laptop very slow after update",
            "Laptop battery drains in an hour",
            "Screen flickering on my laptop",
        ),
        "My laptop has become very slow since last week's update: it takes 10 minutes to start and "
        "Teams freezes during calls.",
        (
            ("tech", "Could you leave the laptop on and connected tonight? I'll run diagnostics remotely."),
            ("requester", "Sure, it's on and plugged in."),
            ("note", "Disk at 97%, SMART warnings on the SSD. Swap needed."),
            (
                "tech",
                "The disk is failing. Please bring the laptop to the IT room tomorrow; we'll give "
                "you a loan laptop while we replace the drive and restore your data.",
            ),
        ),
        Priority.HIGH,
    ),
    Scenario(
        "Access requests",
        (
            "Access to the Sales shared drive",
            "Need admin rights for a software install",
            "Access to the HR reporting tool",
        ),
        "I've joined the sales operations team and need access to the Sales shared drive. My manager "
        "is in copy and can approve.",
        (
            (
                "tech",
                "We need your manager's approval in writing. Could you ask them to reply here or "
                "send it to the desk?",
            ),
            ("requester", "My manager has approved it by email just now."),
            ("tech", "Approval received and access granted. It can take up to 15 minutes to appear."),
        ),
        Priority.LOW,
    ),
    Scenario(
        "Email & calendar",
        (
            "Outlook keeps asking for my password",
            "Shared mailbox not showing",
            "Calendar invites not arriving",
        ),
        "Outlook pops up a password prompt every few minutes even though I type the right password.",
        (
            (
                "tech",
                "Please sign out of Office (File > Account > Sign out), close Outlook, and sign in "
                "again. Does the prompt come back?",
            ),
            ("requester", "Still asking, unfortunately."),
            ("note", "Stale token in Credential Manager; clearing remotely."),
            ("tech", "I've cleared the cached credentials on your machine. Please restart Outlook."),
            ("requester", "That fixed it, thank you."),
        ),
    ),
    Scenario(
        "Wi-Fi & network",
        ("No Wi-Fi in meeting room B", "Guest Wi-Fi password not working", "Network drive very slow"),
        "The Wi-Fi in meeting room B keeps dropping during calls; other rooms are fine.",
        (
            ("tech", "Thanks. Is it every device or only your laptop?"),
            ("requester", "Everyone in the room has the same problem."),
            ("note", "Access point AP-2B-03 rebooting every ~20 min; RMA opened with vendor."),
            (
                "tech",
                "The access point in that room is faulty; a replacement is on order. A temporary "
                "unit is in place now.",
            ),
        ),
    ),
    Scenario(
        "Software",
        (
            "Request: install Power BI Desktop",
            "Adobe Acrobat licence expired",
            "Excel crashes opening macros",
        ),
        "I need Power BI Desktop for the quarterly reporting. Could it be installed on my laptop?",
        (
            (
                "tech",
                "Power BI Desktop is in the software centre. I've made it available to you; "
                "install it from there.",
            ),
            ("requester", "Installed, thanks!"),
        ),
        Priority.LOW,
    ),
)


def already_seeded(session: Session) -> bool:
    return session.scalars(select(User.id).where(User.email == "admin@example.com")).first() is not None


def seed(session: Session, tickets: int = 300, days: int = 90, seed_value: int = 1042) -> str:
    session.info[QUIET] = True  # months of made-up history: nobody is to be told of it
    rng = random.Random(seed_value)
    start = clock.now()
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for every demo user: seeding stays fast
    teams = {name: Team(name=name) for name in TEAMS}
    session.add_all(teams.values())
    for name, team in CATEGORIES.items():
        session.add(Category(name=name, default_team=teams[team], is_active=True))
    admin = User(
        email="admin@example.com",
        full_name="Ada Admin",
        role=Role.ADMIN,
        password_hash=password_hash,
        is_active=True,
        teams=[teams["Service Desk"]],
    )
    technicians = [
        User(
            email=email,
            full_name=name,
            role=Role.TECHNICIAN,
            password_hash=password_hash,
            is_active=True,
            teams=[teams[t] for t in team_names],
        )
        for email, name, team_names in TECHNICIANS
    ]
    requesters = [
        User(
            email="employee@example.com",
            full_name="Erin Employee",
            role=Role.REQUESTER,
            password_hash=password_hash,
            is_active=True,
        )
    ]
    names = sorted({(first, last) for first in FIRST_NAMES for last in LAST_NAMES})
    for first, last in rng.sample(names, 39):
        requesters.append(
            User(
                email=f"{first}.{last}@example.com".lower(),
                full_name=f"{first} {last}",
                role=Role.REQUESTER,
                password_hash=password_hash,
                is_active=True,
            )
        )
    session.add_all([admin, *technicians, *requesters])
    session.flush()
    categories = {c.name: c for c in session.scalars(select(Category))}
    staff = [admin, *technicians]
    for index in range(tickets):
        # Spread tickets over the period, newest last; the demo employee gets a handful of their own.
        created = (
            start
            - timedelta(days=days)
            + timedelta(seconds=(days * 86400) * (index + rng.random()) / tickets)
        )
        requester = requesters[0] if index % 25 == 0 else rng.choice(requesters)
        _play(session, rng, rng.choice(SCENARIOS), created, start, requester, staff, categories)
    return (
        f"{len(TEAMS)} teams, {len(CATEGORIES)} categories, {1 + len(technicians)} staff, "
        f"{len(requesters)} requesters and {tickets} tickets"
    )


def _play(
    session: Session,
    rng: random.Random,
    scenario: Scenario,
    created: datetime,
    end: datetime,
    requester: User,
    staff: list[User],
    categories: dict[str, Category],
) -> None:
    moment = created
    category = categories[scenario.category]
    with clock.frozen_at(moment):
        ticket = service.create_ticket(
            session,
            requester,
            subject=rng.choice(scenario.subjects),
            description=scenario.description,
            priority=scenario.priority,
            category_id=category.id,
        )
    number = ticket.number
    age = end - created
    # Older tickets are further along, as on a real desk: recent ones are still new or open.
    steps = len(scenario.replies) if age > timedelta(days=3) else rng.randint(0, len(scenario.replies))
    if steps == 0 and age < timedelta(hours=6):
        return
    team_staff = [u for u in staff if category.default_team in u.teams] or staff
    technician = rng.choice(team_staff)

    def advance(low_minutes: int, high_minutes: int) -> datetime | None:
        nonlocal moment
        moment = min(moment + timedelta(minutes=rng.randint(low_minutes, high_minutes)), end)
        return None if moment >= end else moment

    if (at := advance(5, 240)) is None:
        return
    with clock.frozen_at(at):
        service.assign(session, technician, number, technician.id)
    for who, text in scenario.replies[: max(steps, 1)]:
        if (at := advance(10, 600)) is None:
            return
        author = requester if who == "requester" else technician
        with clock.frozen_at(at):
            service.add_comment(session, author, number, text, internal=who == "note")
    if (at := advance(30, 1440)) is None:
        return
    outcome = _outcome(rng, age)
    with clock.frozen_at(at):
        if outcome is not None:
            service.transition(session, technician, number, outcome)
    if outcome is Status.RESOLVED and age > timedelta(days=10):
        with clock.frozen_at(min(at + timedelta(days=7), end)):
            service.close_resolved_tickets(session, clock.now(), timedelta(days=7))


def _outcome(rng: random.Random, age: timedelta) -> Status | None:
    if age < timedelta(days=2):
        return rng.choice([None, None, Status.PENDING, Status.ON_HOLD])
    if age < timedelta(days=10):
        return rng.choice([None, Status.PENDING, Status.ON_HOLD, Status.RESOLVED, Status.RESOLVED])
    return Status.PENDING if rng.random() < 0.04 else Status.RESOLVED
