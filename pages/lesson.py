"""Lesson: false negatives and DeMix as a guided story in seven steps, for a teacher to
project. Each step shows one live view of a shipped example model and one takeaway computed
from it (`demix_core.lesson`); the step, the example and the sliders live in the URL."""

import streamlit as st

from demix_core import analysis, lens_plots, lesson, sampler_frames, sampler_plots, urlstate
from demix_core.examples import DATASETS, example_id
from demix_core.lens import remix, repartition
from demix_core.plots import false_negative_diagram
from demix_core.safe_text import md
from pages import common
from pages import lens_common as lc
from pages import lens_data as ld
from pages import lens_maps as maps

common.route_through_app()

SPEC = analysis.PositivesSpec("random", "", 128, 0)
K, SIDE, BASE = 32, "tail", "uniform"
STATE = {"lesson": "lesson_step", "example": "lesson_example", "mu": "lesson_mu", "alpha": "lesson_alpha"}  # fmt: skip
shelf = common.examples()
keys = [d for d in DATASETS if all(example_id(d, s) in shelf.ids() for s in ("uniform", "demix"))]
if not keys:
    st.error("The example runs are missing from assets/examples (scripts/make_examples.py).")
    st.stop()

if st.session_state.get("lens_page") != "lesson":  # arrived: a URL's values win
    st.session_state["lens_page"] = "lesson"
    asked, notices = urlstate.parse(st.query_params.to_dict(), list(STATE))
    had = {name: st.session_state.get(widget) for name, widget in STATE.items()}
    steps = range(1, len(lesson.STEPS) + 1)
    step, notice = urlstate.pick(asked.get("lesson", had["lesson"]), steps, "Step", 1)
    example, notice2 = urlstate.pick(
        asked.get("example", had["example"]), keys, "Example", "umls" if "umls" in keys else keys[0]
    )
    mu, alpha = asked.get("mu", had["mu"]), asked.get("alpha", had["alpha"])
    st.session_state.update(lesson_step=step, lesson_example=example)
    st.session_state.update(
        lesson_mu=1.0 if mu is None else mu, lesson_alpha=0.5 if alpha is None else alpha
    )
    for widget in ("lesson_mu_slider", "lesson_alpha_slider"):
        st.session_state.pop(widget, None)
    for text in [*notices, notice, notice2]:
        if text:
            st.warning(f"This link: {md(text)}", icon=":material/link_off:")
step = st.session_state["lesson_step"]


def go(to: int) -> None:
    st.session_state["lesson_step"] = to


st.title("Lesson: false negatives and DeMix")
a, b = st.columns([3, 2], vertical_alignment="bottom")
a.progress(step / len(lesson.STEPS), text=f"Step {step} of {len(lesson.STEPS)}")
example = b.selectbox(
    "Example model", keys, key="lesson_example", format_func=lambda d: DATASETS[d][1]
)
plain = ld.run_source(shelf, example_id(example, "uniform"))
demix = ld.run_source(shelf, example_id(example, "demix"))
model, kg = ld.model_and_kg(plain)
base = ld.lens(plain, SPEC, K, SIDE, BASE)  # cached: the slow part, once per example
st.header(f"{step}. {lesson.STEPS[step - 1]}")


def slider(name: str, label: str, hi: float, step_: float) -> float:
    """A slider whose value lives in the plain key `lesson_<name>` (a widget's own key is
    dropped while its step is not shown)."""
    plain_key, widget = f"lesson_{name}", f"lesson_{name}_slider"
    st.session_state.setdefault(widget, st.session_state[plain_key])

    def keep() -> None:
        st.session_state[plain_key] = st.session_state[widget]

    help_ = common.GLOSSARY[name]
    return st.slider(label, 0.0, hi, step=step_, key=widget, on_change=keep, help=help_)


def takeaway(text: str) -> None:
    st.info(md(text), icon=":material/lightbulb:")  # sentences quote entity names


def step_1() -> None:
    s = analysis.summary(base)
    example_fn = lesson.false_negative_example(base, (kg.entities, kg.relations))
    takeaway(lesson.takeaway_false_negatives(s, len(base.tau), example_fn))
    left, right = st.columns(2)
    left.image(false_negative_diagram())
    table = analysis.triples_table(base, kg)
    cols = ["head", "relation", "tail", "score"]
    right.caption("Sampled negatives that are in fact true (valid, test or hidden facts):")
    lc.counts_first()
    right.dataframe(table[table["known truth"] == "known true"][cols].head(12), hide_index=True)


def step_2() -> None:
    summary = sampler_frames.sampler_summary(ld.sampler_candidates(plain, SPEC, K))
    takeaway(lesson.takeaway_samplers(summary))
    title = "Known false negatives among each sampler's candidates"
    lc.counts_first()
    st.plotly_chart(sampler_plots.sampler_bars(summary, "fn_rate", title), key="lesson_samplers")


def evidence_box(name: str) -> None:
    """An experiment's conclusion (computed from its saved numbers) and a link to its view."""
    record = lesson.lesson_evidence(name)
    if record is None:
        return
    box = st.container(border=True)
    box.markdown(f":material/science: {md(lesson.evidence_sentence(name, record))}")
    box.page_link(
        "pages/results.py",
        label=f"The {name} experiment on the Results page",
        icon=":material/science:",
        query_params={"experiment": name},
    )


def step_3() -> None:
    mixed = ld.lens(demix, SPEC, K, SIDE, BASE)
    groups = [lesson.score_groups(r) for r in (base, mixed)]
    takeaway(lesson.takeaway_cost(*groups))
    evidence_box("fn-cost")
    lc.counts_first()
    for column, result, name in zip(st.columns(2), (base, mixed), ("uniform", "DeMix")):
        fig = lens_plots.score_histogram(analysis.score_frame(result), "margin", 0.0, "tau")
        fig.update_layout(title=dict(text=f"Trained with {name}: scores (red: false negatives)"))
        column.plotly_chart(fig, key=f"lesson_cost_{name}")


def step_4() -> None:
    mu = slider("mu", "mu", 6.0, 0.1)
    result = repartition(base, mu)
    s = analysis.summary(result)
    rate = s["n_true"] / max(s["candidates"] - s["n_train_positive"], 1)
    takeaway(lesson.takeaway_mpne(s, mu, rate))
    cols = st.columns(3)
    cols[0].metric("MPN", s["n_mpn"])
    cols[1].metric("TN", s["n_tn"])
    cols[2].metric("Known false negatives flagged", s["n_true_mpn"])
    lc.counts_first()
    left, right = st.columns(2)
    fig = lens_plots.score_histogram(analysis.score_frame(result), "margin", 0.0, "tau")
    left.plotly_chart(fig, key="lesson_mpne_hist")
    mus = [i / 10 for i in range(61)]
    right.plotly_chart(lens_plots.pr_figure(analysis.pr_frame(result, mus), mu), key="lesson_pr")


def step_5() -> None:
    alpha = slider("alpha", "alpha", 1.0, 0.05)
    mu = st.session_state["lesson_mu"]
    result = remix(repartition(base, mu), alpha, "fixed", SPEC.seed)
    takeaway(lesson.takeaway_adamix(lesson.adamix_scores(result), alpha))
    row = int(analysis.pattern_choices(result)["row"].iloc[0])
    lc.counts_first()
    layout = maps.mix_layout(
        (plain, SPEC, K, SIDE, BASE, mu, alpha, "fixed"), result, plain, "PCA", (row,)
    )
    st.plotly_chart(maps.query_figure(layout, plain, "PCA", None), key="lesson_map")
    st.caption(
        f"One query, {md(analysis.query_labels(kg, result.positives, result.head)[row])}, "
        f"at mu = {mu:g}."
    )


def step_6() -> None:
    table = lesson.example_results(shelf.records())
    takeaway(lesson.takeaway_results(table))
    for name in ("ablation", "benchmarks"):
        evidence_box(name)
    lc.counts_first()
    st.dataframe(
        table.rename(columns={"uniform": "test MRR, uniform", "demix": "test MRR, DeMix"}),
        hide_index=True,
    )
    st.caption(
        "Measured by scripts/make_examples.py (RotatE, dim 64, one seed): examples, not a "
        "benchmark. The 3-seed comparison at equal budgets is the ablation experiment above."
    )


def step_7() -> None:
    mu, alpha = st.session_state["lesson_mu"], st.session_state["lesson_alpha"]
    dataset = DATASETS[example][0]
    takeaway(
        f"Train RotatE with DeMix on {DATASETS[example][1]} at mu = {mu:g} and alpha = {alpha:g}, "
        "the settings of this lesson, and compare it with uniform negatives on the Compare page."
    )
    if st.button("Train with these settings", type="primary", icon=":material/play_arrow:"):
        common.prefill_train(dataset, mu, alpha)
        st.switch_page("pages/train.py")
    st.page_link("pages/mpne.py", label="Or explore MPNE freely", icon=":material/filter_alt:")


[step_1, step_2, step_3, step_4, step_5, step_6, step_7][step - 1]()
prev, _, nxt = st.columns([1, 4, 1])
prev.button(
    "Previous", on_click=go, args=(step - 1,), disabled=step == 1, icon=":material/arrow_back:"
)
nxt.button("Next", on_click=go, args=(step + 1,), disabled=step == len(lesson.STEPS), icon=":material/arrow_forward:", type="primary")  # fmt: skip
values = {name: st.session_state.get(widget) for name, widget in STATE.items()}
params = urlstate.encode(values)
st.query_params.from_dict(params)
common.copy_link(params)
if step < 3:  # fill the next steps' caches once this one is drawn: a step change only redraws
    ld.sampler_candidates(plain, SPEC, K)
    ld.lens(demix, SPEC, K, SIDE, BASE)
ld.prefill()  # the lens pages' default view, in the background, for whoever opens one next
