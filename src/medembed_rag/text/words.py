"""The one stopword list: English function words that carry no meaning of their own.

The lexical index drops them from queries (:func:`medembed_rag.index.lexical.query_terms`); verification adds
:data:`NOT_FACT_WORDS` to them when it counts a sentence's meaningful words (hedges and negations: negation is
checked on its own, and "usually" or "may" is no fact a passage must contain).
"""

from __future__ import annotations

STOPWORDS = frozenset(
    "a about above after again against all am an and any are as at be because been before being below between "
    "both but by can could did do does doing down during each few for from further had has have having he her "
    "here hers herself him himself his how i if in into is it its itself just me more most my myself nor of off "
    "on once only or other our ours ourselves out over own same she should so some such than that the their "
    "theirs them themselves then there these they this those through to too under until up very was we were "
    "what when where which while who whom why will with would you your yours yourself yourselves".split()
)
NOT_FACT_WORDS = frozenset("also always generally may might must no not often per please typically usually".split())
