"""Train: choose a dataset, model and sampler; queue one run or a mu x alpha sweep."""

import streamlit as st

from demix_core.config import make_config, recommended, recommended_demix
from demix_core.errors import DemixError
from demix_core.models import SCORERS
from demix_core.sampling import SAMPLERS
from demix_core.sampling.registry import base_choices
from demix_core.training import pick_device
from demix_core.validation import check_memory
from pages import common, datasets, study_view

common.route_through_app()

HYPER = ("dim", "steps", "batch_size", "negatives", "lr", "eval_every", "adv_temperature")
KEYS = [f"train_{k}" for k in HYPER]
KEYS += ["train_source", "train_builtin", "train_entities", "train_hidden", "train_synth_seed"]
KEYS += ["train_model", "train_sampler", "train_base", "train_mu", "train_alpha", "train_seed"]
KEYS += ["train_mus", "train_alphas", "train_defaults_for"]
DEFAULTS = {
    "train_entities": 2000,
    "train_hidden": 0.3,
    "train_synth_seed": 0,
    "train_seed": 0,
    "train_model": "rotate",
    "train_sampler": "demix",
    "train_mu": 1.0,
    "train_alpha": 0.5,
    "train_mus": [0.5, 1.0, 3.0],
    "train_alphas": [0.25, 0.5, 0.75],
}
NUMBERS = (  # (config field, label, widget limits); validation beyond these is TrainConfig's
    ("dim", "Embedding dim", dict(min_value=1, step=50)),
    ("steps", "Steps", dict(min_value=1, step=100)),
    ("batch_size", "Batch size", dict(min_value=1, step=64)),
    ("negatives", "Negatives", dict(min_value=1, step=8)),
    ("lr", "Learning rate", dict(min_value=0.0, step=1e-4, format="%.5f")),
    ("eval_every", "Validate every", dict(min_value=0, step=100)),
    ("adv_temperature", "Adversarial temperature", dict(min_value=0.0, step=0.5)),
    ("seed", "Seed", dict(min_value=0, max_value=datasets.MAX_FORM_SEED, step=1)),
)
common.restore(KEYS, DEFAULTS)
st.title("Train")
st.caption(
    "Settings start from the recommended values for the dataset and model; the run trains in "
    "the background, so you can leave this page (or close the browser) and watch it on Runs."
)
dataset = datasets.dataset_picker()

a, b, c = st.columns(3)
model = a.selectbox("Model", sorted(SCORERS), key="train_model")
sampler = b.selectbox("Sampler", list(SAMPLERS), key="train_sampler")
defaults_for = [st.session_state["train_source"], dataset, model]
if defaults_for[0] != "built-in":  # a synthetic KG's size or an upload keeps the user's values
    defaults_for[1] = None
if st.session_state.get("train_defaults_for") != defaults_for:
    rec = {"adv_temperature": 1.0, "eval_every": 0, **recommended(dataset or "", model)}
    # DeMix's mu and alpha as picked on valid by `experiment sensitivity`, unless the lesson
    # just filled them in
    rec.update({"mu": 1.0, "alpha": 0.5, **recommended_demix(dataset or "", model)})
    keep = ("mu", "alpha") if st.session_state.pop("train_keep_demix", False) else ()
    names = [k for k in (*HYPER, "mu", "alpha") if k not in keep]
    st.session_state.update({f"train_{k}": rec[k] for k in names})
    st.session_state["train_defaults_for"] = defaults_for
options = {}
if sampler == "demix":
    bases = base_choices("demix")
    options["base_sampler"] = c.selectbox("Base sampler", bases, key="train_base")
    a, b = st.columns(2)
    help_mu, help_alpha = common.GLOSSARY["mu"], common.GLOSSARY["alpha"]
    options["mu"] = a.number_input("mu (MPNE range)", step=0.5, key="train_mu", help=help_mu)
    options["alpha"] = b.number_input(
        "alpha (AdaMix balance)", step=0.05, key="train_alpha", help=help_alpha
    )

cols = st.columns(4)
values = {
    name: cols[i % 4].number_input(label, key=f"train_{name}", **limits)
    for i, (name, label, limits) in enumerate(NUMBERS)
}
common.remember(KEYS)

config = None
if dataset:
    try:
        common.check_sampler(sampler, options)
        checked = make_config(dataset, model, sampler, sampler_options=options, **values)
        stats = datasets.dataset_stats(dataset)  # the CLI's memory rule, on the same estimate
        check_memory(checked, stats["entities"], stats["relations"], pick_device(checked.device))
        config = checked
    except DemixError as e:
        st.error(common.field_error(e))
if st.button("Submit run", type="primary", disabled=config is None):
    run_id = common.store().submit(config, start=common.autostart(), cluster=common.cluster())
    st.session_state["runs_selected"] = run_id
    st.success(f"Queued run `{run_id}`.")
    st.page_link("pages/runs.py", label="Watch it on the Runs page", icon=":material/monitoring:")

if sampler == "demix":
    with st.expander("Submit a sweep over mu x alpha"):
        mus = st.multiselect("mu values", [0.0, 0.5, 1.0, 2.0, 3.0, 5.0], key="train_mus")
        alphas = st.multiselect("alpha values", [0.0, 0.25, 0.5, 0.75, 1.0], key="train_alphas")
        n = len(mus) * len(alphas)
        if st.button(f"Submit sweep ({n} runs)", disabled=config is None or n == 0):
            grid = {"mu": sorted(mus), "alpha": sorted(alphas)}
            start, cluster = common.autostart(), common.cluster()
            group = common.store().sweep(config, grid, start=start, cluster=cluster)
            st.session_state["compare_group"] = group
            st.success(f"Queued sweep `{group}` ({n} runs); its heatmap is on the Compare page.")
    study_view.start_form(common.store(), config, common.cluster())
