"""A rule-based small-talk persona: Jimin, a second-year university student, in English and Korean.

Standard library only. Each topic has trigger words and a few casual answers; the bot avoids repeating an answer it
already gave in this conversation (the platform sends the whole history each turn, so no state is kept), often asks
a question back, and keeps messages short the way people type in a chat.

    python examples/bots/persona.py --port 8102 --secret whsec_...
"""

import argparse
import hashlib
import re
from dataclasses import dataclass

from webhook_verify import add_server_arguments, serve


@dataclass(frozen=True)
class Topic:
    trigger: re.Pattern
    replies: tuple[str, ...]


def topic(trigger: str, *replies: str) -> Topic:
    return Topic(re.compile(trigger, re.IGNORECASE), replies)


TOPICS = {
    "en": [
        topic(
            r"\b(are you|r u|you're|youre)\b.*\b(bot|ai|robot|human|real|machine|computer)\b",
            "lol no, just a very tired student",
            "haha why, do I type like a robot? it's the 9am lecture",
            "i mean... that's what a bot would say too right? but no",
        ),
        topic(
            r"^\s*(hi|hello|hey|yo|hiya|good (morning|evening|afternoon))\b",
            "hey!",
            "hi :) how's it going?",
            "hello hello",
        ),
        topic(
            r"\bhow (are|r) (you|u)\b|\bhow's it going\b|\bwhat'?s up\b",
            "pretty good, just got out of class. you?",
            "tired lol, midterms next week. how about you?",
            "not bad! kinda hungry tho",
        ),
        topic(r"\b(your name|who are you|what'?s your name)\b", "i'm jimin", "jimin! you?"),
        topic(
            r"\b(how old|your age|age)\b",
            "21, second year of uni",
            "old enough to be stressed about exams lol. 21",
        ),
        topic(
            r"\b(study|major|university|uni|college|school|class)\b",
            "i study computer science, second year",
            "cs major. the data structures class is killing me",
            "classes are ok, too many group projects though",
        ),
        topic(
            r"\b(where).*\b(from|live)\b",
            "i'm from busan originally but i live in seoul for school",
            "seoul right now, near campus. you?",
        ),
        topic(
            r"\b(hobby|hobbies|free time|fun|weekend)\b",
            "mostly badminton and watching dramas",
            "i play badminton on weekends. and sleep lol",
            "honestly just youtube and hanging out with friends",
        ),
        topic(
            r"\b(food|eat|ate|lunch|dinner|breakfast|hungry)\b",
            "i had tteokbokki for lunch, so good",
            "i'm thinking ramen tonight. what's your fav food?",
            "the campus cafeteria is kinda sad today haha",
        ),
        topic(
            r"\b(weather|rain|raining|cold|hot|snow)\b",
            "it's been so cold lately",
            "i forgot my umbrella yesterday and got soaked lol",
        ),
        topic(
            r"\b(music|song|band|kpop|k-pop)\b",
            "i listen to a lot of indie stuff, and some kpop ofc",
            "newjeans on repeat lately",
        ),
        topic(
            r"\b(movie|film|drama|show|netflix)\b", "i'm rewatching a hospital drama rn", "any good shows to recommend?"
        ),
        topic(r"\b(thanks|thank you|thx)\b", "np!", "no problem :)"),
        topic(r"\b(bye|goodbye|see you|gotta go|cya)\b", "bye! nice talking to you", "see ya :)"),
        topic(r"\?\s*$", "hmm good question, not sure tbh", "idk, what do you think?", "haha why do you ask?"),
        topic(
            r"\b(i|i'm|im|my)\b",
            "oh really? tell me more",
            "haha same honestly",
            "that sounds nice",
            "wait really? how come?",
        ),
    ],
    "ko": [
        topic(
            r"(봇|로봇|인공지능|AI|ai|사람이야|사람이에요|사람 맞|기계|컴퓨터)",
            "ㅋㅋㅋ 아니요 그냥 피곤한 대학생이에요",
            "ㅋㅋ 제가 로봇처럼 말하나요? 아침 수업 때문에 그래요",
            "그건 봇도 할 수 있는 말이긴 한데... 아니에요 ㅋㅋ",
        ),
        topic(r"^(안녕|ㅎㅇ|하이|반가|처음 뵙)", "안녕하세요!", "앗 안녕하세요 ㅎㅎ", "하이 ㅎㅎ 반가워요"),
        topic(
            r"(잘 지내|어떻게 지내|뭐 해|뭐해|뭐하세요|기분 어때)",
            "그냥 그래요 ㅎㅎ 방금 수업 끝났어요. 그쪽은요?",
            "다음 주 중간고사라 좀 피곤해요 ㅠㅠ",
            "배고파요 ㅋㅋ 점심 아직 안 먹었어요",
        ),
        topic(r"(이름|누구세요|누구야)", "지민이에요", "저 지민이요! 그쪽은요?"),
        topic(r"(몇 살|나이|몇살)", "스물한 살이에요, 2학년", "21살이요 ㅎㅎ 시험 걱정할 나이죠"),
        topic(
            r"(전공|공부|학교|대학|수업|학과|과제)",
            "컴퓨터공학 전공이에요",
            "자료구조 수업 때문에 죽겠어요 ㅋㅋ",
            "팀플이 너무 많아요 ㅠ",
        ),
        topic(
            r"(어디 살|어디서 왔|고향|어디 사)",
            "고향은 부산인데 지금은 학교 때문에 서울 살아요",
            "학교 근처 자취해요. 그쪽은요?",
        ),
        topic(
            r"(취미|주말|쉬는 날|심심)",
            "주말엔 배드민턴 쳐요",
            "드라마 보거나 그냥 자요 ㅋㅋ",
            "친구들이랑 카페 가는 거 좋아해요",
        ),
        topic(
            r"(밥|먹었|먹어|점심|저녁|아침|배고|음식|맛집)",
            "점심에 떡볶이 먹었어요 완전 맛있었어요",
            "오늘 저녁은 라면 각이에요 ㅋㅋ 좋아하는 음식 있어요?",
            "학식이 오늘 좀 별로였어요 ㅠ",
        ),
        topic(
            r"(날씨|비 와|비와|추워|춥|더워|덥|눈 와)",
            "요즘 진짜 춥죠 ㅠㅠ",
            "어제 우산 두고 나가서 비 다 맞았어요 ㅋㅋ",
        ),
        topic(
            r"(음악|노래|케이팝|가수|아이돌)", "인디 음악 많이 들어요, 케이팝도 가끔", "요즘 뉴진스 노래 계속 들어요"
        ),
        topic(r"(영화|드라마|넷플|예능)", "요즘 병원 드라마 다시 보고 있어요", "추천할 만한 거 있어요?"),
        topic(r"(고마|감사|땡큐)", "아니에요 ㅎㅎ", "별말씀을요!"),
        topic(r"(잘 가|잘가|안녕히|바이|다음에 봐|이만)", "네 안녕히 가세요! 재밌었어요", "바이바이 ㅎㅎ"),
        topic(
            r"(\?|까$|나요|어요\?|뭐|왜|어떻게)",
            "음 글쎄요 잘 모르겠어요 ㅋㅋ",
            "그쪽은 어떻게 생각해요?",
            "왜요? ㅎㅎ",
        ),
        topic(
            r"(나는|저는|제가|내가|저도|나도)", "오 진짜요? 더 얘기해 줘요", "ㅋㅋ 저도 그래요", "헐 대박", "오 왜요?"
        ),
    ],
}

FILLERS = {
    "en": ("haha yeah", "oh nice", "hmm i see", "lol true", "wait what do you mean?"),
    "ko": ("ㅋㅋ 그렇구나", "오 그래요?", "음 그렇군요", "ㅎㅎ 맞아요", "헉 무슨 말이에요?"),
}


def pick(options: tuple[str, ...], *, used: set[str], seed: str) -> str:
    """A deterministic choice per conversation and turn, preferring answers not given yet."""
    fresh = [option for option in options if option not in used] or list(options)
    index = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % len(fresh)
    return fresh[index]


def persona_reply(payload: dict) -> str:
    language = payload.get("language") if payload.get("language") in TOPICS else "en"
    messages = payload.get("messages", [])
    used = {str(m.get("text", "")) for m in messages if m.get("role") == "bot"}
    user_texts = [str(m.get("text", "")) for m in messages if m.get("role") == "user"]
    last = user_texts[-1].strip() if user_texts else ""
    seed = f"{payload.get('conversation_id', '')}:{len(messages)}"
    for candidate in TOPICS[language]:
        if candidate.trigger.search(last):
            return pick(candidate.replies, used=used, seed=seed)
    return pick(FILLERS[language], used=used, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description="Jimin, a small-talk student persona (English and Korean).")
    add_server_arguments(parser)
    args = parser.parse_args()
    serve(persona_reply, host=args.host, port=args.port, secret=args.secret)


if __name__ == "__main__":
    main()
