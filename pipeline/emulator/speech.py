"""Speech-to-text tasks: ``POST /speech/recognize.json`` stores one, ``GET /speech/result/{id}.json``
answers it in the collection's shape (the "recognition" is canned and deterministic)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

FIRST_TASK_ID = 32421  # the collection's example id
TASK_TYPES = ("transcribe", "translate", "transcribe_and_translate")
BYTES_PER_SECOND = 16_000  # 8 kHz, 16-bit mono: good enough to turn a size into a duration
PHRASES = {
    "en": "hello this is a test call",
    "es": "hola esta es una llamada de prueba",
    "de": "hallo das ist ein testanruf",
    "fr": "bonjour ceci est un appel de test",
}


@dataclass(frozen=True, slots=True)
class SpeechTask:
    id: int
    languages: tuple[str, ...]
    task_type: str
    remote_identifier: str
    duration: int
    created_on: date
    webhook_url: str | None = None  # recorded (not called): tests check what the client sent
    parse_channel: int = 0


class SpeechTasks:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[int, SpeechTask] = {}
        self._next_id = FIRST_TASK_ID

    def create(
        self,
        languages: str,
        task_type: str,
        remote_identifier: str,
        audio: bytes,
        on: date,
        *,
        webhook_url: str | None = None,
        parse_channel: int = 0,
    ) -> SpeechTask:
        langs = tuple(code.strip().lower() for code in languages.split(",") if code.strip())
        with self._lock:
            task = SpeechTask(
                self._next_id,
                langs or ("en",),
                task_type,
                remote_identifier,
                max(1, len(audio) // BYTES_PER_SECOND),
                on,
                webhook_url,
                parse_channel,
            )
            self._tasks[task.id] = task
            self._next_id += 1
        return task

    def get(self, task_id: int) -> SpeechTask | None:
        with self._lock:
            return self._tasks.get(task_id)


def result_document(task: SpeechTask) -> dict[str, object]:
    language = task.languages[0]
    text = PHRASES.get(language, PHRASES["en"])
    translated = PHRASES["en"] if task.task_type != "transcribe" else ""
    phrase = {"start_at": 0, "end_at": task.duration, "phrase": text, "channel": 1}
    short = task.duration < 5
    return {
        "id": task.id,
        "duration": task.duration,
        "languages": list(task.languages),
        "task_type": task.task_type,
        "remote_identifier": task.remote_identifier,
        "result": {
            "remote_identifier": task.remote_identifier,
            "created_at": f"{task.created_on.isoformat()} 07:32:26",
            "language": language,
            "plain_body": text,
            "phrases": [phrase],
            "translation_plain_body": translated,
            "translation_phrases": [{**phrase, "phrase": translated}] if translated else [],
            "sentiment": 0,
            "sentiment_description": "Recording too short" if short else "Neutral",
            "summary": "Recording too short" if short else "A short test call.",
            "entities": {},
            "entities_list": [],
            "metadata": {},
        },
    }
