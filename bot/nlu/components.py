"""Custom Rasa 3.6 NLU components for Vietnamese as residents type it.

`VietnameseTokenizer` keeps each token's text and offsets but folds its lemma (what the
CountVectorsFeaturizer reads), so "đánh", "danh" and "đánh" in NFD share features and
teencode ("ck", "ko", "dc") reads as the words it stands for.

`PlaceExtractor` fills the `place` entity from the gazetteer (current and former names),
with the canonical current unit as value.

Both add the normalisation tables to their fingerprint so that editing a table retrains.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import normalize
from bot.services import gazetteer

_TABLES = (Path(normalize.__file__), Path(gazetteer.__file__), gazetteer.DATA_FILE)


def _tables_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in _TABLES:
        digest.update(path.read_bytes())
    return digest.hexdigest()


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class VietnameseTokenizer(WhitespaceTokenizer):
    """Whitespace tokens whose lemma is the folded (diacritic/teencode-free) word."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        return _tables_fingerprint()

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = normalize.fold_word(token.text)
        return tokens


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class PlaceExtractor(GraphComponent, EntityExtractorMixin):
    """Finds current and former place names; the value is the current unit's name."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entity": "place"}

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        return _tables_fingerprint()

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._entity = config["entity"]
        self._gazetteer = gazetteer.gazetteer()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PlaceExtractor":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            found = [
                {
                    ENTITY_ATTRIBUTE_TYPE: self._entity,
                    ENTITY_ATTRIBUTE_START: match.start,
                    ENTITY_ATTRIBUTE_END: match.end,
                    ENTITY_ATTRIBUTE_VALUE: match.unit.name,
                }
                for match in self._gazetteer.find(text)
            ]
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(found),
                add_to_output=True,
            )
        return messages
