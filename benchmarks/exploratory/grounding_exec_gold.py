"""Would grounding drop or trim any of the execution suite's own correct calls? (development check)

    python benchmarks/exploratory/grounding_exec_gold.py

Plays each task's solution, with the conversation growing by each step's real results, and asks the grounding
rules about every gold call: call dropping (first turn only, as in the engine) and optional-argument trimming.
"""

from rixin.bench.execsuite import load_tasks
from rixin.calling.grounding import Context, check_grounding, drop_ungrounded_optional
lost = 0
total = 0
dropped_opt = 0
for task in load_tasks():
    env = task.fresh()
    schemas = {t.name: t.parameters for t in env.tools}
    text = task.prompt
    for turn in task.solution:
        results = []
        for name, args in turn:
            total += 1
            v = check_grounding(dict(args), schemas[name], Context(text))
            opt = drop_ungrounded_optional(dict(args), schemas[name], Context(text))
            if v.missing and turn is task.solution[0]:
                lost += 1; print("LOST", task.id, name, v.missing, "|", task.prompt[:90])
            if opt != dict(args):
                dropped_opt += 1; print("OPT ", task.id, name, set(args) - set(opt), "|", task.prompt[:90])
            ok, out = env.execute(name, dict(args))
            results.append(out)
        text += "\n" + "\n".join(results)
print(total, "gold calls;", lost, "would be dropped;", dropped_opt, "lose an optional argument")
