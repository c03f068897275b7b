"""A chat backend's flow through the Python client generated from the served OpenAPI.

Run by test/integration/python-client.test.ts with CS_BASE_URL, CS_SHOP and CS_KEY set and the
generated package `cs_client` on the path; prints one JSON line of what it saw, which the test checks.
"""
import json
import os
import sys

from cs_client import AuthenticatedClient
from cs_client.api.agents import create_agent
from cs_client.api.events import list_events
from cs_client.api.sessions import close_session, get_session, leave_queue, report_message, start_session, transfer_session
from cs_client.models import (
    CloseSessionBody,
    CloseSessionBodyBy,
    CreateAgentBody,
    CreateAgentBodyStatus,
    CreateAgentResponse201,
    GetSessionResponse200,
    ListEventsResponse200,
    LiveSession,
    ReportMessageBody,
    ReportMessageBodyFrom,
    StartSessionBody,
    StartSessionResponse201,
    TransferSessionResponse200,
)

base, shop, key = os.environ["CS_BASE_URL"], os.environ["CS_SHOP"], os.environ["CS_KEY"]
client = AuthenticatedClient(base_url=base, token=key, raise_on_unexpected_status=True)
seen = {}


def expect(value, kind):
    if not isinstance(value, kind):
        print(f"expected {kind.__name__}, got {type(value).__name__}: {value}", file=sys.stderr)
        sys.exit(1)
    return value


ann = expect(create_agent.sync(shop, client=client, body=CreateAgentBody(name="Ann", capacity=1, status=CreateAgentBodyStatus.ONLINE)), CreateAgentResponse201)
bob = expect(create_agent.sync(shop, client=client, body=CreateAgentBody(name="Bob", capacity=1)), CreateAgentResponse201)
seen["agent"] = ann.agent.name

s1 = expect(start_session.sync(shop, client=client, body=StartSessionBody(session_id="py-1", buyer_id="b1", topic="presales", wants_human=True)), StartSessionResponse201)
seen["s1_status"] = s1.session.status.value
seen["s1_agent_is_ann"] = s1.session.agent_id == ann.agent.id
s2 = expect(start_session.sync(shop, client=client, body=StartSessionBody(session_id="py-2", buyer_id="b2", topic="presales", wants_human=True)), StartSessionResponse201)
seen["s2_status"] = s2.session.status.value
seen["s2_queue_position"] = s2.queue_position

report_message.sync(shop, "py-1", client=client, body=ReportMessageBody(from_=ReportMessageBodyFrom.BUYER, message_id="m1"))
read = expect(get_session.sync(shop, "py-1", client=client), GetSessionResponse200)
live = expect(read.live, LiveSession)
seen["live_turn"] = live.turn.value
seen["live_deadline_reason"] = live.next_deadline.reason.value if live.next_deadline else None

queued = expect(get_session.sync(shop, "py-2", client=client), GetSessionResponse200)
seen["s2_place"] = queued.queue.position if queued.queue else None

left = expect(leave_queue.sync(shop, "py-2", client=client), LiveSession)
seen["left_reason"] = left.close_reason.value if left.close_reason else None

# Bob comes online through the raw API the generated client also wraps; then Ann hands py-1 over.
from cs_client.api.agents import update_agent
from cs_client.models import UpdateAgentBody, UpdateAgentBodyStatus

update_agent.sync(shop, bob.agent.id, client=client, body=UpdateAgentBody(status=UpdateAgentBodyStatus.ONLINE))
moved = expect(transfer_session.sync(shop, "py-1", client=client, body={"toAgentId": bob.agent.id, "note": "python"}), TransferSessionResponse200)
seen["transferred_to_bob"] = moved.transfer.to_agent_id == bob.agent.id and moved.session.agent_id == bob.agent.id

closed = expect(close_session.sync(shop, "py-1", client=client, body=CloseSessionBody(by=CloseSessionBodyBy.AGENT)), LiveSession)
seen["closed_reason"] = closed.close_reason.value if closed.close_reason else None

types, after = [], 0
while True:
    page = expect(list_events.sync(shop, client=client, after=after, limit=3), ListEventsResponse200)
    types += [e.type_.value for e in page.items]
    if not page.has_more:
        break
    after = page.next_cursor
seen["event_types"] = types
print(json.dumps(seen))
