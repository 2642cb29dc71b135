"""Writes the tutorial notebooks (no outputs). Run after editing: python examples/notebooks/_build.py"""

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent
SETUP = '''import os
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from medembed_rag.app.demo import load_demo_encoder, SAMPLES
encoder = load_demo_encoder()   # MedEmbed-base; the packaged stand-in when the hub cannot be reached
print(encoder)'''

NOTEBOOKS = {
    "01_quickstart.ipynb": [
        ("md", "# Quickstart: encode, chunk, store, query\n\nMedEmbed on OpenVINO, the medical chunker and a Chroma store in a few cells."),
        ("code", SETUP),
        ("md", "## Encode\nDocuments and queries have separate paths; vectors are L2-normalised, so a dot product is the cosine."),
        ("code", '''import numpy as np
passages = ["Metformin is the usual first medicine for type 2 diabetes.",
            "Warfarin needs regular INR blood tests.",
            "Amoxicillin treats most community-acquired pneumonia."]
docs = encoder.encode_documents(passages)
query = encoder.encode_queries(["Which blood test is needed with warfarin?"])[0]
scores = docs @ query
print(docs.shape, scores.round(3))
assert scores.argmax() == 1 and np.allclose(np.linalg.norm(docs, axis=1), 1, atol=1e-4)'''),
        ("md", "## Chunk\nChunks never exceed the model's limit and keep exact offsets into the original."),
        ("code", '''from medembed_rag.chunking import MedicalChunker
leaflet = (SAMPLES / "leaflet_warfarin.md").read_text()
chunks = MedicalChunker(encoder, chunk_tokens=64).split(leaflet)
for c in chunks:
    print(c.index, c.section, c.n_tokens)
assert all(leaflet[c.start:c.end] == c.text for c in chunks)'''),
        ("md", "## Store and query"),
        ("code", '''import tempfile
from medembed_rag.index.store import MedEmbedChromaStore
folder = tempfile.mkdtemp()
with MedEmbedChromaStore(folder, encoder=encoder) as store:
    paths = sorted(SAMPLES.glob("*.md"))
    store.add_documents([p.read_text() for p in paths], ids=[p.stem for p in paths],
                        metadatas=[{"source": p.name} for p in paths])
    hits = store.query("How should metformin be started?", k=2)
    for h in hits:
        print(f"{h.score:.3f}", h.metadata["source"], ">", h.metadata.get("section"))
assert hits[0].metadata["source"] in {"guideline_type2_diabetes.md", "leaflet_metformin.md"}'''),
    ],
    "02_long_clinical_documents.ipynb": [
        ("md", "# Long clinical documents\n\nMedEmbed reads 512 tokens. The medical chunker splits long notes at section headers, paragraphs and sentences, so nothing is cut off, and `aggregate_to_documents` turns chunk hits back into documents."),
        ("code", SETUP),
        ("code", '''note = (SAMPLES / "discharge_summary_pneumonia.md").read_text()
long_note = note + "\\n\\nHOSPITAL COURSE (continued): " + " ".join(["Oxygen saturation improved on the ward."] * 150)
print(len(encoder.count_tokens([long_note])) and encoder.count_tokens([long_note])[0], "tokens; the model reads", encoder.max_length)'''),
        ("code", '''from medembed_rag.chunking import MedicalChunker
chunker = MedicalChunker(encoder)
chunks = chunker.split(long_note, doc_id="note-1")
for c in chunks:
    print(c.index, repr(c.section), c.n_tokens, repr(c.text[:50]))
assert all(c.n_tokens <= encoder.max_length for c in chunks)
assert {"HISTORY OF PRESENT ILLNESS", "DISCHARGE MEDICATIONS"} <= {c.section for c in chunks}'''),
        ("md", "The long hospital-course section needs several chunks. Only the first begins with its heading, so the later ones carry it as `context`: `embed_text` (heading, line break, text) is what the store embeds, while `text` and the offsets stay exactly the note's."),
        ("code", '''later = [c for c in chunks if c.context]
print(repr(later[0].context), "|", repr(later[0].embed_text[:80]))
assert later and all(long_note[c.start:c.end] == c.text for c in later)'''),
        ("md", "## Document-level retrieval"),
        ("code", '''import tempfile
from medembed_rag.index.store import MedEmbedChromaStore
with MedEmbedChromaStore(tempfile.mkdtemp(), encoder=encoder) as store:
    paths = sorted(SAMPLES.glob("*.md"))
    store.add_documents([long_note] + [p.read_text() for p in paths[1:]], ids=["note-1"] + [p.stem for p in paths[1:]])
    docs = store.query_documents("Which antibiotic was he discharged on?", k=2, chunks_per_document=2)
    for d in docs:
        print(d.doc_id, round(d.score, 3), [round(h.score, 3) for h in d.chunks])
assert docs[0].doc_id == "note-1"'''),
    ],
    "03_rerank_and_hybrid.ipynb": [
        ("md", "# What reranking and hybrid retrieval buy\n\nOn a shared BEIR set when present (PubMedQA, 200 queries), otherwise on the sample documents: nDCG@10 for dense retrieval, BM25 fused with it, and RRF. The reranker cell uses a locally built cross-encoder whose head is untrained (offline there is no MedCPT), so it shows the API, not the gain."),
        ("code", SETUP),
        ("code", '''from pathlib import Path
from medembed_rag.evaluation.metrics import BeirDataset, load_beir
from medembed_rag.evaluation.pipeline import EvalIndex
shared = Path.cwd()
for parent in [Path.cwd(), *Path.cwd().parents]:
    if (parent / "shared" / "datasets" / "pubmedqa").is_dir():
        shared = parent / "shared" / "datasets" / "pubmedqa"
        break
if (shared / "corpus.jsonl").is_file():
    data, name = load_beir(shared), "PubMedQA (200 queries)"
    index = EvalIndex(data, encoder, max_queries=200)
else:
    texts = {p.stem: ("", p.read_text()) for p in sorted(SAMPLES.glob("*.md"))}
    queries = {"q1": "warfarin INR blood test", "q2": "metformin first medicine", "q3": "pneumonia antibiotics"}
    qrels = {"q1": {"leaflet_warfarin": 1}, "q2": {"guideline_type2_diabetes": 1}, "q3": {"discharge_summary_pneumonia": 1}}
    data, name = BeirDataset(texts, queries, qrels), "sample documents"
    index = EvalIndex(data, encoder, chunk=True)
settings = {"dense": index.run(), "hybrid (weighted)": index.run(hybrid=True), "hybrid (rrf)": index.run(hybrid=True, fusion="rrf")}
for k, v in settings.items():
    print(f"{k:18s} nDCG@10 {v['ndcg@10']:.2f}")
assert all(0 <= v["ndcg@10"] <= 100 for v in settings.values())'''),
        ("code", '''import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(5, 2.5))
ax.barh(list(settings), [v["ndcg@10"] for v in settings.values()])
ax.set_xlabel("nDCG@10"); ax.set_title(name)
fig.tight_layout()'''),
        ("md", "## Reranking a candidate pool\nRetrieve more than you keep (e.g. 20-50, keep 5): the cross-encoder reorders only what the first stage found."),
        ("code", '''import tempfile
from medembed_rag.models.reranker import MedEmbedReranker
from medembed_rag.testing import build_cross_encoder
reranker = MedEmbedReranker(build_cross_encoder(tempfile.mkdtemp()), precision="fp32")
pool = ["Warfarin needs regular INR blood tests.", "Metformin is taken with meals.", "Amoxicillin for pneumonia."]
ranked = reranker.rank("warfarin blood test", pool, top_k=2)
print(ranked)
assert len(ranked) == 2 and {r.index for r in ranked} <= {0, 1, 2}'''),
    ],
}

for name, cells in NOTEBOOKS.items():
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells]
    for i, cell in enumerate(nb.cells):  # stable ids: rebuilding changes only the cells that changed
        cell.id = f"{Path(name).stem[:2]}-{i:02d}"
    nbf.write(nb, HERE / name)
    print("wrote", name)
