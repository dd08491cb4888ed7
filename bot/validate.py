"""`make validate`: Rasa's own data validation with warnings as errors, where a response
that a custom action sends (actions/*.py names it, or builds it from a prefix in
`DISPATCHED_PREFIXES`, or is the `_more` half action_more sends) counts as used even though
no rule names it."""

from __future__ import annotations

import re
import sys

from bot.config import ROOT

DISPATCHED_PREFIXES = ("utter_topic_", "utter_risk_q")


def dispatched_responses() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "actions").glob("*.py"):
        names |= set(re.findall(r"[\"'](utter_\w+)[\"']", path.read_text(encoding="utf-8")))
    return names


def main() -> int:
    import rasa.shared.utils.io
    import rasa.validator
    from rasa.cli.utils import validate_files
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.importers.importer import TrainingDataImporter

    used = dispatched_responses()

    class Validator(rasa.validator.Validator):
        def verify_utterances_in_stories(self, ignore_warnings: bool = True) -> bool:
            """Rasa's check, except that responses sent by actions count as used."""
            valid = self._gather_utterance_actions()
            seen, all_good = set(), True
            for story in self.story_graph.story_steps:
                for event in story.events:
                    name = getattr(event, "action_name", None) or ""
                    if isinstance(event, ActionExecuted) and name.startswith("utter_"):
                        if name not in valid:
                            rasa.shared.utils.io.raise_warning(f"The action '{name}' has no response in the domain.")
                            all_good = ignore_warnings
                        seen.add(name)
            for name in sorted(valid - seen - used):
                if not name.startswith(DISPATCHED_PREFIXES) and not name.endswith("_more"):
                    rasa.shared.utils.io.raise_warning(f"The utterance '{name}' is not used in any story or rule.")
                    all_good = ignore_warnings and all_good
            return all_good

    rasa.validator.Validator = Validator
    importer = TrainingDataImporter.load_from_config(
        config_path=str(ROOT / "config.yml"), domain_path=str(ROOT / "domain.yml"),
        training_data_paths=[str(ROOT / "nlu_data")],
    )
    validate_files(fail_on_warnings=True, max_history=None, importer=importer)
    print("validation passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
