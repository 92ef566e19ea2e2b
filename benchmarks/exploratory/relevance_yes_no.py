import sys, time, json, numpy as np
from rixin.bench.bfcl import load_category
from rixin.bench.runner import sample
from rixin.calling import open_model
from rixin.calling.prompt import render_prompt
from rixin.types import Message
from rixin.tools import as_tools
eng = open_model(); m = eng.model
yes_ids = [m.tokenize(w)[0] for w in ["yes", "Yes", " yes", " Yes"]]
no_ids = [m.tokenize(w)[0] for w in ["no", "No", " no", " No"]]
def score(item, variant):
    tools = as_tools(item.tools())
    req = item.messages[-1]["content"]
    r = eng.chat(item.messages, tools=tools)
    calls = r.message.tool_calls or []
    if not calls: return None, r
    if variant == "cont":
        conv = [Message.model_validate(x) for x in item.messages] + [r.message, Message(role="user", content="Wait. Can the function(s) you called really do what I asked? Answer only yes or no.")]
        # tool result-less; hermes template renders assistant tool_calls
        p = render_prompt(m.info.chat_template, eng.family, conv, tools)
    else:
        desc = "\n".join(f"- {t.name}: {t.description}" for t in tools if t.name in {c.function.name for c in calls})
        conv = [Message(role="user", content=f"Request: {req}\n\nFunction:\n{desc}\n\nCan this function do what the request asks (not just something similar)? Answer only yes or no.")]
        p = render_prompt(m.info.chat_template, eng.family, conv, None)
    toks = m.tokenize(p)
    with m.lock:
        m._evaluate(toks, reuse_prefix=True)
        lg = m._last_logits()
    lse = lambda ids: float(np.logaddexp.reduce(lg[ids]))
    return lse(yes_ids) - lse(no_ids), r
for variant in sys.argv[1:]:
    for cat in ["irrelevance", "simple_python", "multiple"]:
        items = sample(load_category(cat), 15, 7, cat)
        scores = []
        for it in items:
            s, r = score(it, variant)
            scores.append(s)
        print(variant, cat, "nocall", sum(s is None for s in scores), "margins", sorted(round(s,1) for s in scores if s is not None))
