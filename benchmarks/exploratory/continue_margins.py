import json, numpy as np, time
from rixin.bench.bfcl import load_category
from rixin.bench.runner import sample
from rixin.calling import open_model
from rixin.tools import as_tools
from rixin.types import Message
from rixin.calling import CallingOptions
eng = open_model(None, CallingOptions(parallel_bias=0), n_threads=1); m = eng.model
def ids(words): return sorted({m.tokenize(w)[0] for w in words})
SEP = ids([",", ", "]); END = ids(["]", "]\n"])
print("sep", [m.detokenize([t]) for t in SEP], "end", [m.detokenize([t]) for t in END])
for cat in ["parallel", "parallel_multiple", "simple_python", "multiple"]:
    out = []
    for it in sample(load_category(cat), 10, 7, cat):
        tools = as_tools(it.tools())
        r = eng.chat(it.messages, tools=tools, tool_choice="required")
        calls = r.message.tool_calls or []
        if not calls: continue
        first = calls[0]
        conv = [Message.model_validate(x) for x in it.messages]
        from rixin.calling.engine import _Run
        run = _Run(eng, conv, tools, tools, "required", True, __import__("rixin.types").types.GenerationOptions())
        p = run.prompt(m, conv) + "<tool_call>\n[" + json.dumps({"name": first.function.name, "arguments": json.loads(first.function.arguments)}, ensure_ascii=False)
        with m.lock:
            m._evaluate(m.tokenize(p), reuse_prefix=True); lg = m._last_logits()
        margin = float(np.logaddexp.reduce(lg[SEP]) - np.logaddexp.reduce(lg[END]))
        out.append((round(margin,2), len(calls), len(it.gold)))
    print(cat, sorted(out))
