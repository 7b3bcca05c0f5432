"""The learned place ranker: gradient-boosted trees that score (mention, candidate) rows the SQL models built.

The SQL keeps candidate generation and explainable features; no weight is set by hand. Two LightGBM models,
trained by bench/train_places.py on news corpora with a fixed seed, fill in two columns right after the model
that builds their rows:
  prior: int_toponym_candidates.base_score, the context-free log-odds that a reading is the place meant
         (it feeds the document-context pass, int_toponym_doc_context)
  full:  int_toponym_features.score, the log-odds with the document's and the source's context (a ranking
         model over each mention's readings, its score mapped to log-odds by a learned Platt scaling)
Scoring is one batch per table (Arrow in, one LightGBM call, Arrow out), never a loop over mentions.

The model file is flows/newsfacts/models/places_ranker.json unless NEWSFACTS_PLACES_MODEL names another
(a model trained without the corpus being scored, for cross-corpus figures).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

# context-free features (int_toponym_candidates)
PRIOR_NUMERIC = ["log_population", "as_written", "surface_upper", "surface_dotted", "name_length",
                 "is_calendar_word", "is_demonym_word", "candidates", "population_gap", "population_rank",
                 "country_readings"]
PRIOR_CATEGORICAL = ["kind", "method", "name_type", "qualifier"]
# context features (int_toponym_features), on top of the context-free ones
CONTEXT_NUMERIC = ["base_score", "prior_probability", "prior_rank", "container_region", "container_country",
                   "contained_region", "country_share", "admin1_share", "doc_names", "anchor_same", "anchor_near",
                   "coherent_names", "county_town_link", "county_bare_link", "region_sense",
                   "source_admin1_share", "source_country_share", "source_domain_country", "shared_container",
                   "shared_anchor", "shared_county", "admin1_share_gap", "country_share_gap"]
STAGES = {
    "prior": ("int_toponym_candidates", "base_score", PRIOR_NUMERIC, PRIOR_CATEGORICAL),
    "full": ("int_toponym_features", "score", PRIOR_NUMERIC + CONTEXT_NUMERIC, PRIOR_CATEGORICAL),
}


@dataclass
class Stage:
    """One trained booster with the feature columns and category vocabularies it was trained on.

    `calibration` (slope, intercept), learned by the training script, maps a ranking model's raw score to
    log-odds (Platt scaling); a binary model's raw score already is log-odds (1, 0)."""
    booster: object
    numeric: list[str]
    categorical: dict[str, list[str]]
    calibration: tuple[float, float] = (1.0, 0.0)

    def matrix(self, df: pd.DataFrame) -> pd.DataFrame:
        return feature_matrix(df, self.numeric, self.categorical)

    def raw(self, df: pd.DataFrame) -> np.ndarray:
        if not len(df):
            return np.zeros(0)
        return self.booster.predict(self.matrix(df), raw_score=True)

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        slope, intercept = self.calibration
        return slope * self.raw(df) + intercept

    def to_dict(self) -> dict:
        return {"model": self.booster.model_to_string(), "numeric": self.numeric, "categorical": self.categorical,
                "calibration": list(self.calibration)}

    @classmethod
    def from_dict(cls, d: dict) -> Stage:
        import lightgbm as lgb
        return cls(lgb.Booster(model_str=d["model"]), list(d["numeric"]), dict(d["categorical"]),
                   tuple(d.get("calibration", (1.0, 0.0))))


def feature_matrix(df: pd.DataFrame, numeric: list[str], categorical: dict[str, list[str]]) -> pd.DataFrame:
    """Numeric columns as floats, categorical ones as codes of the training vocabulary (unseen values: NaN)."""
    out = pd.DataFrame({c: pd.to_numeric(df[c].astype("float64"), errors="coerce") for c in numeric},
                       index=df.index)
    for c, vocab in categorical.items():
        out[c] = df[c].astype("object").map({v: float(i) for i, v in enumerate(vocab)}).astype("float64")
    return out


@dataclass
class Ranker:
    prior: Stage | None = None
    full: Stage | None = None
    meta: dict | None = None

    def save(self, path: Path, meta: dict | None = None) -> None:
        payload = {"format": 1, "meta": meta or self.meta or {},
                   "prior": self.prior.to_dict() if self.prior else None,
                   "full": self.full.to_dict() if self.full else None}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Ranker:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(Stage.from_dict(d["prior"]) if d.get("prior") else None,
                   Stage.from_dict(d["full"]) if d.get("full") else None, d.get("meta"))


_cache: dict[str, Ranker] = {}
_override: list[Ranker] = []


def model_path() -> Path:
    """The configured model file (``NEWSFACTS_PLACES_MODEL``, see :mod:`newsfacts.config`)."""
    from newsfacts.config import Settings

    return Settings().places_model


def current() -> Ranker:
    """The ranker in use: a training script's override, else the (cached) model file."""
    if _override:
        return _override[-1]
    path = model_path()
    key = str(path.resolve())
    if key not in _cache:
        if not path.exists():
            raise FileNotFoundError(f"place ranker model {path} is missing: run `make train-places`")
        _cache[key] = Ranker.load(path)
    return _cache[key]


@contextmanager
def using(ranker: Ranker):
    """Score with `ranker` instead of the model file (training builds features through the production path)."""
    _override.append(ranker)
    try:
        yield ranker
    finally:
        _override.pop()


def score_table(con: duckdb.DuckDBPyConnection, table: str, column: str, stage: Stage | None) -> None:
    """Fill `column` of `table` with the stage's log-odds, over the whole table at once.

    Only the feature columns leave DuckDB (Arrow to pandas), and the scores come back as one Arrow column
    joined by position: a round trip of every column held a second copy of the slice's candidates outside
    DuckDB's capped pool (25-65 MB more at the peak of a 2,000-document slice).
    ``table`` may be qualified (``temp.main.x``: an incremental run's new rows; ``"intermediate".main.x``); it is
    rebuilt where it is."""
    if stage is None:
        return
    cols = stage.numeric + list(stage.categorical)
    listed = ", ".join(f'"{c}"' for c in cols)
    features = con.sql(f"select {listed} from {table}").to_arrow_table().to_pandas()
    scores = pa.table({"_nf_score": pa.array(stage.predict(features), type=pa.float64())})
    del features
    con.register("_nf_scored", scores)
    try:
        temp = "temp " if table.startswith("temp.") else ""  # DuckDB wants the keyword for the temp catalog
        con.execute(f"create or replace {temp}table {table} as select t.* replace (s._nf_score as {column}) "
                    f"from {table} t positional join _nf_scored s")
    finally:
        con.unregister("_nf_scored")


def after_model(con: duckdb.DuckDBPyConnection, name: str, table: str | None = None) -> None:
    """Hook run after each SQL model (built as ``table``, default its name): scores the rows the ranker owns a
    column of."""
    for stage_name, (model, column, _, _) in STAGES.items():
        if name == model:
            score_table(con, table or model, column, getattr(current(), stage_name))
