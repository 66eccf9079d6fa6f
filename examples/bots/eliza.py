"""ELIZA (Weizenbaum, 1966) in English and Korean, as a HuLiC webhook bot. Standard library only.

The classic machinery: keywords with ranks; for each keyword, decomposition rules (here regular expressions) tried
in order; reassembly templates used in rotation, filled with the user's own words after pronoun reflection
("my" -> "your", "나는" -> "당신은"); "goto" rules that hand over to another keyword; and a memory: when the user
talks about "my ..." a remark is stored and brought back later when no keyword matches.

The platform sends the whole conversation every turn, so the bot keeps no state: it replays the user's messages
through a fresh ELIZA and answers the last one. Restarts and several platform workers are therefore harmless.

    python examples/bots/eliza.py --port 8101 --secret whsec_...
"""

import argparse
import re
from collections import deque
from dataclasses import dataclass, field

from webhook_verify import add_server_arguments, serve


@dataclass
class Rule:
    pattern: re.Pattern
    reassemblies: list[str]
    memorise: bool = False


@dataclass
class Keyword:
    trigger: re.Pattern
    rank: int
    rules: list[Rule]


@dataclass
class Script:
    keywords: dict[str, Keyword]
    reflections: dict[str, str]
    substitutions: list[tuple[str, str]]
    fallbacks: list[str]
    goodbye: re.Pattern
    goodbyes: list[str]
    lowercase: bool = True


def rule(pattern: str, *reassemblies: str, memorise: bool = False) -> Rule:
    return Rule(re.compile(pattern, re.IGNORECASE), list(reassemblies), memorise)


def keyword(trigger: str, rank: int, *rules: Rule) -> Keyword:
    return Keyword(re.compile(trigger, re.IGNORECASE), rank, list(rules))


ANY = r"(.*)"

ENGLISH = Script(
    substitutions=[
        (r"\bdont\b", "don't"),
        (r"\bcant\b", "can't"),
        (r"\bwont\b", "won't"),
        (r"\bim\b", "i'm"),
        (r"\bi'm\b", "i am"),
        (r"\byou're\b", "you are"),
        (r"\bmom\b", "mother"),
        (r"\bmum\b", "mother"),
        (r"\bdad\b", "father"),
        (r"\bmaybe\b", "perhaps"),
        (r"\bmachine\b", "computer"),
        (r"\bbot\b", "computer"),
        (r"\bsame\b", "alike"),
    ],
    reflections={
        "am": "are",
        "was": "were",
        "i": "you",
        "i'd": "you would",
        "i've": "you have",
        "i'll": "you will",
        "my": "your",
        "are": "am",
        "you've": "I have",
        "you'll": "I will",
        "your": "my",
        "yours": "mine",
        "you": "me",
        "me": "you",
        "myself": "yourself",
        "yourself": "myself",
        "mine": "yours",
    },
    keywords={
        "sorry": keyword(
            r"\bsorry\b",
            0,
            rule(
                ANY,
                "Please don't apologise.",
                "Apologies are not necessary.",
                "What feelings do you have when you apologise?",
            ),
        ),
        "remember": keyword(
            r"\bremember\b",
            5,
            rule(
                r"(.*)\bi remember\b(.*)",
                "Do you often think of {1}?",
                "Does thinking of {1} bring anything else to mind?",
                "What else do you remember?",
                "Why do you remember {1} just now?",
            ),
            rule(
                r"(.*)\bdo you remember\b(.*)",
                "Did you think I would forget {1}?",
                "Why do you think I should recall {1} now?",
                "What about {1}?",
            ),
            rule(ANY, "goto what"),
        ),
        "if": keyword(
            r"\bif\b",
            3,
            rule(
                r"(.*)\bif\b(.*)",
                "Do you think it's likely that {1}?",
                "Do you wish that {1}?",
                "What do you know about {1}?",
                "Really, if {1}?",
            ),
        ),
        "dream": keyword(
            r"\bdream(s|ed|t)?\b",
            3,
            rule(
                ANY,
                "What does that dream suggest to you?",
                "Do you dream often?",
                "What persons appear in your dreams?",
                "Do you believe that dreams have something to do with your problem?",
            ),
        ),
        "perhaps": keyword(
            r"\bperhaps\b",
            0,
            rule(
                ANY,
                "You don't seem quite certain.",
                "Why the uncertain tone?",
                "Can't you be more positive?",
                "You aren't sure?",
                "Don't you know?",
            ),
        ),
        "name": keyword(
            r"\bname\b",
            15,
            rule(
                ANY,
                "I am not interested in names.",
                "I've told you before, I don't care about names -- please continue.",
            ),
        ),
        "hello": keyword(
            r"\b(hello|hi|hey|good (morning|afternoon|evening))\b",
            0,
            rule(ANY, "How do you do. Please state your problem.", "Hi. What seems to be your problem?"),
        ),
        "computer": keyword(
            r"\b(computers?|robots?|ai|artificial)\b",
            50,
            rule(
                ANY,
                "Do computers worry you?",
                "Why do you mention computers?",
                "What do you think machines have to do with your problem?",
                "Don't you think computers can help people?",
                "What about machines worries you?",
                "What do you think about machines?",
            ),
        ),
        "am": keyword(
            r"\bam\b",
            0,
            rule(
                r"(.*)\bam i\b(.*)",
                "Do you believe you are {1}?",
                "Would you want to be {1}?",
                "Do you wish I would tell you you are {1}?",
                "What would it mean if you were {1}?",
            ),
        ),
        "are": keyword(
            r"\bare\b",
            0,
            rule(
                r"(.*)\bare you\b(.*)",
                "Why are you interested in whether I am {1} or not?",
                "Would you prefer if I weren't {1}?",
                "Perhaps I am {1} in your fantasies.",
                "Do you sometimes think I am {1}?",
            ),
            rule(
                r"(.*)(?<!\byou )\bare\b(.*)",
                "Did you think they might not be {1}?",
                "Would you like it if they were not {1}?",
                "What if they were not {1}?",
                "Possibly they are {1}.",
            ),
        ),
        "your": keyword(
            r"\byour\b",
            0,
            rule(
                r"(.*)\byour\b(.*)",
                "Why are you concerned over my {1}?",
                "What about your own {1}?",
                "Are you worried about someone else's {1}?",
                "Really, my {1}?",
            ),
        ),
        "was": keyword(
            r"\bwas\b",
            2,
            rule(
                r"(.*)\bwas i\b(.*)",
                "What if you were {1}?",
                "Do you think you were {1}?",
                "Were you {1}?",
                "What would it mean if you were {1}?",
            ),
            rule(
                r"(.*)\bi was\b(.*)",
                "Were you really?",
                "Why do you tell me you were {1} now?",
                "Perhaps I already know you were {1}.",
            ),
            rule(
                r"(.*)\bwas you\b(.*)",
                "Would you like to believe I was {1}?",
                "What suggests that I was {1}?",
                "What do you think?",
            ),
        ),
        "i": keyword(
            r"\bi\b",
            3,
            rule(
                r"(.*)\bi (?:want|need)\b(.*)",
                "What would it mean to you if you got {1}?",
                "Why do you want {1}?",
                "Suppose you got {1} soon?",
                "What if you never got {1}?",
            ),
            rule(
                r"(.*)\bi am\b.*\b(sad|unhappy|depressed|sick|miserable|lonely)\b(.*)",
                "I am sorry to hear that you are {1}.",
                "Do you think coming here will help you not to be {1}?",
                "I'm sure it's not pleasant to be {1}.",
                "Can you explain what made you {1}?",
            ),
            rule(
                r"(.*)\bi am\b.*\b(happy|elated|glad|better|fine|great)\b(.*)",
                "How have I helped you to be {1}?",
                "What makes you {1} just now?",
                "Can you explain why you are suddenly {1}?",
            ),
            rule(
                r"(.*)\bi (?:believe|think|feel)\b(.*)",
                "Do you really think so?",
                "But you are not sure {1}.",
                "Do you really doubt {1}?",
            ),
            rule(
                r"(.*)\bi am\b(.*)",
                "Is it because you are {1} that you came to me?",
                "How long have you been {1}?",
                "Do you believe it is normal to be {1}?",
                "Do you enjoy being {1}?",
            ),
            rule(
                r"(.*)\bi (?:can't|cannot)\b(.*)",
                "How do you know that you can't {1}?",
                "Have you tried?",
                "Perhaps you could {1} now.",
                "Do you really want to be able to {1}?",
            ),
            rule(
                r"(.*)\bi don't\b(.*)",
                "Don't you really {1}?",
                "Why don't you {1}?",
                "Do you wish to be able to {1}?",
                "Does that trouble you?",
            ),
            rule(
                r"(.*)\bi (?:feel|felt)\b(.*)",
                "Tell me more about such feelings.",
                "Do you often feel {1}?",
                "Do you enjoy feeling {1}?",
                "Of what does feeling {1} remind you?",
            ),
            rule(
                r"(.*)\bi\b(.*)\byou\b(.*)",
                "Perhaps in your fantasies we {1} each other.",
                "Do you wish to {1} me?",
                "You seem to need to {1} me.",
                "Do you {1} anyone else?",
            ),
            rule(
                ANY,
                "You say {0}?",
                "Can you elaborate on that?",
                "Do you say that for some special reason?",
                "That's quite interesting.",
            ),
        ),
        "you": keyword(
            r"\byou\b",
            0,
            rule(
                r"(.*)\byou remind me of\b(.*)",
                "What resemblance do you see?",
                "What does that similarity suggest to you?",
                "What other connections do you see?",
            ),
            rule(
                r"(.*)\byou are\b(.*)",
                "What makes you think I am {1}?",
                "Does it please you to believe I am {1}?",
                "Do you sometimes wish you were {1}?",
                "Perhaps you would like to be {1}.",
            ),
            rule(
                r"(.*)\byou\b(.*)\bme\b(.*)",
                "Why do you think I {1} you?",
                "You like to think I {1} you -- don't you?",
                "What makes you think I {1} you?",
                "Really, I {1} you?",
            ),
            rule(
                ANY,
                "We were discussing you -- not me.",
                "Oh, I?",
                "You're not really talking about me -- are you?",
                "What are your feelings now?",
            ),
        ),
        "yes": keyword(
            r"\b(yes|yeah|yep|sure)\b",
            0,
            rule(ANY, "You seem to be quite positive.", "You are sure.", "I see.", "I understand."),
        ),
        "no": keyword(
            r"\b(no|nope|nah)\b",
            0,
            rule(
                ANY,
                "Are you saying no just to be negative?",
                "You are being a bit negative.",
                "Why not?",
                "Why 'no'?",
            ),
        ),
        "my": keyword(
            r"\bmy\b",
            2,
            rule(
                r"(.*)\bmy\b(.*)",
                "Earlier you said your {1}.",
                "But your {1}.",
                "Does that have anything to do with the fact that your {1}?",
                memorise=True,
            ),
            rule(
                r"(.*)\bmy\b.*\b(family|mother|father|sister|brother|wife|husband|children|child|parents)\b(.*)",
                "Tell me more about your family.",
                "Who else in your family {2}?",
                "Your {1}?",
                "What else comes to your mind when you think of your {1}?",
            ),
            rule(
                r"(.*)\bmy\b(.*)",
                "Your {1}?",
                "Why do you say your {1}?",
                "Does that suggest anything else which belongs to you?",
                "Is it important to you that your {1}?",
            ),
        ),
        "can": keyword(
            r"\bcan\b",
            0,
            rule(
                r"(.*)\bcan you\b(.*)",
                "You believe I can {1} don't you?",
                "goto what",
                "You want me to be able to {1}.",
                "Perhaps you would like to be able to {1} yourself.",
            ),
            rule(
                r"(.*)\bcan i\b(.*)",
                "Whether or not you can {1} depends on you more than on me.",
                "Do you want to be able to {1}?",
                "Perhaps you don't want to {1}.",
            ),
            rule(ANY, "goto what"),
        ),
        "what": keyword(
            r"\b(what|how|who|where|when|why)\b",
            0,
            rule(
                r"(.*)\bwhy don't you\b(.*)",
                "Do you believe I don't {1}?",
                "Perhaps I will {1} in good time.",
                "Should you {1} yourself?",
                "You want me to {1}?",
            ),
            rule(
                r"(.*)\bwhy can't i\b(.*)",
                "Do you think you should be able to {1}?",
                "Do you want to be able to {1}?",
                "Do you believe this will help you to {1}?",
                "Have you any idea why you can't {1}?",
            ),
            rule(
                ANY,
                "Why do you ask?",
                "Does that question interest you?",
                "What is it you really want to know?",
                "Are such questions much on your mind?",
                "What answer would please you most?",
                "What do you think?",
                "What comes to mind when you ask that?",
                "Have you asked such questions before?",
                "Have you asked anyone else?",
            ),
        ),
        "because": keyword(
            r"\bbecause\b",
            0,
            rule(
                ANY,
                "Is that the real reason?",
                "Don't any other reasons come to mind?",
                "Does that reason seem to explain anything else?",
                "What other reasons might there be?",
            ),
        ),
        "everyone": keyword(
            r"\b(everyone|everybody|nobody|noone|no one)\b",
            2,
            rule(
                r"(.*)\b(everyone|everybody|nobody|no one)\b(.*)",
                "Really, {1}?",
                "Surely not {1}.",
                "Can you think of anyone in particular?",
                "Who, for example?",
                "You are thinking of a very special person.",
            ),
        ),
        "always": keyword(
            r"\balways\b",
            1,
            rule(
                ANY,
                "Can you think of a specific example?",
                "When?",
                "What incident are you thinking of?",
                "Really, always?",
            ),
        ),
        "alike": keyword(
            r"\b(alike|like|similar)\b",
            10,
            rule(
                ANY,
                "In what way?",
                "What resemblance do you see?",
                "What does that similarity suggest to you?",
                "What other connections do you see?",
                "Could there really be some connection?",
                "How?",
            ),
        ),
    },
    fallbacks=[
        "I'm not sure I understand you fully.",
        "Please go on.",
        "What does that suggest to you?",
        "Do you feel strongly about discussing such things?",
        "That is interesting. Please continue.",
        "Tell me more about that.",
    ],
    goodbye=re.compile(r"^\s*(bye|goodbye|quit|see you|farewell)\b", re.IGNORECASE),
    goodbyes=["Goodbye. It was nice talking to you.", "Goodbye. Take care of yourself."],
)


KOREAN = Script(
    lowercase=False,
    substitutions=[
        (r"컴퓨터|기계|로봇|인공지능|챗봇|\bAI\b|\b봇\b", "컴퓨터"),
        (r"엄마|어머님|어머니", "어머니"),
        (r"아빠|아버님|아버지", "아버지"),
        (r"아마도", "아마"),
    ],
    reflections={
        "나는": "당신은",
        "난": "당신은",
        "저는": "당신은",
        "전": "당신은",
        "내가": "당신이",
        "제가": "당신이",
        "나를": "당신을",
        "저를": "당신을",
        "날": "당신을",
        "나의": "당신의",
        "저의": "당신의",
        "내": "당신의",
        "제": "당신의",
        "나도": "당신도",
        "저도": "당신도",
        "나한테": "당신한테",
        "저한테": "당신한테",
        "우리": "당신들",
        "너는": "저는",
        "넌": "저는",
        "너를": "저를",
        "네가": "제가",
        "니가": "제가",
        "너의": "저의",
        "네": "저의",
        "당신은": "저는",
        "당신이": "제가",
        "당신을": "저를",
        "당신의": "저의",
    },
    keywords={
        "미안": keyword(
            r"미안|죄송",
            0,
            rule(ANY, "사과하실 필요는 없어요.", "사과할 때 어떤 기분이 드세요?", "괜찮아요. 계속 이야기해 주세요."),
        ),
        "기억": keyword(
            r"기억",
            5,
            rule(
                r"(.*?)(?:기억나|기억해|기억하)(.*)",
                "'{0}'에 대해 자주 생각하시나요?",
                "그걸 떠올리면 또 무엇이 생각나세요?",
                "왜 하필 지금 그 기억이 떠올랐을까요?",
                "그 밖에 또 무엇을 기억하세요?",
            ),
            rule(ANY, "goto 질문"),
        ),
        "꿈": keyword(
            r"꿈",
            3,
            rule(
                ANY,
                "그 꿈이 당신에게 무엇을 말해 준다고 생각하세요?",
                "꿈을 자주 꾸시나요?",
                "꿈에 어떤 사람들이 나오나요?",
                "꿈이 지금 고민과 관련이 있다고 생각하세요?",
            ),
        ),
        "아마": keyword(
            r"아마|글쎄|모르겠",
            0,
            rule(
                ANY,
                "확신이 없어 보이시네요.",
                "왜 그렇게 망설이세요?",
                "조금 더 분명하게 말해 줄 수 있나요?",
                "정말 잘 모르시겠어요?",
            ),
        ),
        "이름": keyword(
            r"이름", 15, rule(ANY, "저는 이름에는 관심이 없어요.", "이름은 중요하지 않아요. 계속 이야기해 주세요.")
        ),
        "인사": keyword(
            r"안녕|반가워|반갑|하이|ㅎㅇ",
            0,
            rule(ANY, "안녕하세요. 무엇이 고민인지 말씀해 주세요.", "반가워요. 오늘은 어떤 이야기를 하고 싶으세요?"),
        ),
        "컴퓨터": keyword(
            r"컴퓨터",
            50,
            rule(
                ANY,
                "컴퓨터가 걱정되시나요?",
                "왜 컴퓨터 이야기를 하시죠?",
                "기계가 당신의 고민과 무슨 관련이 있다고 생각하세요?",
                "컴퓨터가 사람을 도울 수 있다고 생각하지 않으세요?",
                "기계의 어떤 점이 걱정되세요?",
            ),
        ),
        "감정": keyword(
            r"우울|슬프|슬퍼|외로|힘들|불행|괴로|짜증|화가|화나|불안|걱정|무서|두려",
            8,
            rule(
                r"(.*?)(우울|슬프|슬퍼|외로|힘들|불행|괴로|짜증|화가|화나|불안|걱정|무서|두려)(.*)",
                "그런 기분이 드신다니 안타까워요.",
                "여기서 이야기하면 조금 나아질 것 같으세요?",
                "무엇 때문에 그런 기분이 드는지 말해 줄 수 있나요?",
                "그런 기분은 언제부터 드셨어요?",
                "그 감정에 대해 조금 더 이야기해 주세요.",
            ),
        ),
        "기쁨": keyword(
            r"기뻐|기쁘|행복|좋아졌|신나|즐거",
            8,
            rule(
                ANY,
                "제가 어떻게 도움이 되었나요?",
                "지금 무엇이 그렇게 기분을 좋게 하나요?",
                "갑자기 기분이 좋아진 이유를 말해 줄 수 있나요?",
            ),
        ),
        "원해": keyword(
            r"원해|원한|필요해|필요하|갖고 싶|하고 싶|싶어",
            4,
            rule(
                r"(.*?)(?:이|가|을|를)?\s*(?:원해|원한|필요해|필요하|갖고 싶|하고 싶|싶어)(.*)",
                "'{0}'을(를) 얻으면 당신에게 어떤 의미가 있을까요?",
                "왜 '{0}'을(를) 원하세요?",
                "곧 그걸 얻게 된다면 어떨 것 같아요?",
                "끝내 얻지 못한다면 어떨까요?",
            ),
        ),
        "못해": keyword(
            r"못 ?하|못해|못 \S+|할 수 없|안 돼|안돼",
            3,
            rule(
                r"(.*?)\s*(?:못 ?하|못해|못 \S+|할 수 없|안 돼|안돼)(.*)",
                "정말 할 수 없다고 어떻게 확신하세요?",
                "시도는 해 보셨나요?",
                "어쩌면 지금은 할 수 있을지도 몰라요.",
                "정말로 할 수 있게 되기를 바라세요?",
            ),
        ),
        "생각": keyword(
            r"생각|느껴|느낌|같아",
            1,
            rule(
                ANY,
                "정말 그렇게 생각하세요?",
                "그 느낌에 대해 더 이야기해 주세요.",
                "확신하지는 못하시는 것 같네요.",
                "그런 느낌이 자주 드세요?",
            ),
        ),
        "가족": keyword(
            r"어머니|아버지|가족|엄마|아빠|형|누나|오빠|언니|동생|남편|아내|부모|아이",
            6,
            rule(
                r"(.*?)(어머니|아버지|가족|부모|남편|아내|동생|형|누나|오빠|언니|아이)(.*)",
                "가족에 대해 더 이야기해 주세요.",
                "{1} 이야기를 하시니 어떤 생각이 드세요?",
                "{1}와(과)의 관계는 어떤가요?",
                "가족 중에 또 누가 떠오르세요?",
            ),
        ),
        "나": keyword(
            r"(^|\s)(나는|난|저는|전|내가|제가)(\s|$)",
            0,
            rule(
                r"(?:나는|난|저는|전|내가|제가)\s+(.+?)(?:이에요|예요|이야|입니다|이다|야|요)?[.!?]*$",
                "'{0}'(이)라서 저를 찾아오셨나요?",
                "'{0}'(이)라고 하셨는데, 조금 더 말해 줄래요?",
                "왜 '{0}'(이)라고 생각하세요?",
                "'{0}'(이)라는 말을 하시는 데 특별한 이유가 있나요?",
            ),
            rule(ANY, "조금 더 자세히 말해 줄 수 있나요?", "그렇게 말씀하시는 특별한 이유가 있나요?"),
        ),
        "너": keyword(
            r"(^|\s)(너는|넌|너|네가|니가|당신은|당신)(\s|$)",
            0,
            rule(
                r"(?:너는|넌|네가|니가|당신은)\s+(.+?)(?:이야|야|이에요|예요|이니|니|입니까|이세요|세요)?[.!?]*$",
                "제가 '{0}'(이)라고 생각하시는 이유가 뭔가요?",
                "제가 '{0}'(이)라고 믿으면 기분이 좋으세요?",
                "가끔은 당신이 '{0}'(이)기를 바라지 않으세요?",
            ),
            rule(ANY, "지금은 제가 아니라 당신에 대해 이야기하고 있었어요.", "저에 대해서요?", "지금 기분은 어떠세요?"),
        ),
        "내": keyword(
            r"(^|\s)(내|제|나의|저의)\s",
            2,
            rule(
                r"(?:^|\s)(?:내|제|나의|저의)\s+(\S+?)(?:가|이|는|은|를|을|도|랑|와|과|한테)?(?:\s|$)",
                "아까 당신의 {0} 이야기를 하셨죠. 조금 더 말해 줄래요?",
                "그게 당신의 {0}와(과) 관련이 있을까요?",
                memorise=True,
            ),
            rule(
                r"(?:^|\s)(?:내|제|나의|저의)\s+(\S+?)(?:가|이|는|은|를|을|도|랑|와|과|한테)?(?:\s|$)",
                "당신의 {0}요?",
                "왜 당신의 {0} 이야기를 하세요?",
                "당신의 {0}이(가) 당신에게 중요한가요?",
            ),
        ),
        "응": keyword(
            r"^(응|네|예|그래|맞아|그럼|ㅇㅇ)",
            0,
            rule(ANY, "확신하시는군요.", "그렇군요.", "알겠어요.", "좀 더 말씀해 주세요."),
        ),
        "아니": keyword(
            r"^(아니|아뇨|싫어|전혀)",
            0,
            rule(
                ANY,
                "그냥 부정적으로 말씀하시는 건 아닌가요?",
                "조금 부정적이시네요.",
                "왜 아니죠?",
                "왜 '아니'라고 하세요?",
            ),
        ),
        "왜냐": keyword(
            r"왜냐|때문",
            0,
            rule(
                ANY,
                "그게 진짜 이유일까요?",
                "다른 이유는 떠오르지 않으세요?",
                "그 이유로 또 다른 일도 설명이 되나요?",
            ),
        ),
        "모두": keyword(
            r"모두|다들|아무도|누구나|모든 사람",
            2,
            rule(
                ANY,
                "정말 모두가요?",
                "특별히 떠오르는 사람이 있나요?",
                "예를 들면 누구요?",
                "누군가 특별한 사람을 생각하고 계시군요.",
            ),
        ),
        "항상": keyword(
            r"항상|늘|언제나|맨날",
            1,
            rule(ANY, "구체적인 예를 들어 줄 수 있나요?", "언제요?", "어떤 일이 떠오르세요?", "정말 항상 그런가요?"),
        ),
        "비슷": keyword(
            r"비슷|닮았|같은|똑같",
            10,
            rule(
                ANY,
                "어떤 점에서요?",
                "어떤 닮은 점이 보이세요?",
                "그 비슷함이 무엇을 말해 준다고 생각하세요?",
                "다른 연결점도 보이세요?",
            ),
        ),
        "질문": keyword(
            r"\?|뭐|무엇|왜|어떻게|누구|어디|언제",
            0,
            rule(
                ANY,
                "왜 그걸 물으세요?",
                "그 질문이 흥미로우세요?",
                "정말로 알고 싶은 게 뭔가요?",
                "어떤 대답이 가장 마음에 드시겠어요?",
                "당신은 어떻게 생각하세요?",
                "그 질문을 하실 때 무엇이 떠오르세요?",
            ),
        ),
    },
    fallbacks=[
        "잘 이해하지 못했어요. 조금 더 설명해 주시겠어요?",
        "계속 말씀해 주세요.",
        "그게 무엇을 뜻한다고 생각하세요?",
        "그런 이야기를 하는 게 편하신가요?",
        "흥미롭네요. 계속해 주세요.",
        "그것에 대해 더 이야기해 주세요.",
    ],
    goodbye=re.compile(r"^\s*(잘\s*가|안녕히|바이|그만|끝|빠이)"),
    goodbyes=["안녕히 가세요. 이야기 나눠서 좋았어요.", "잘 가요. 몸 조심하세요."],
)

SCRIPTS = {"en": ENGLISH, "ko": KOREAN}
MEMORY_SIZE = 4


@dataclass
class Eliza:
    """One conversation's ELIZA: rotation counters and the memory stack are the only state."""

    script: Script
    rotation: dict[tuple[str, int], int] = field(default_factory=dict)
    memory: deque = field(default_factory=lambda: deque(maxlen=MEMORY_SIZE))
    fallback_turn: int = 0

    def reflect(self, fragment: str) -> str:
        words = fragment.strip(" .,!?;:").split()
        return " ".join(self.script.reflections.get(word, word) for word in words)

    def normalise(self, text: str) -> str:
        text = text.lower() if self.script.lowercase else text
        text = re.sub(r"\s+", " ", text.strip())
        for pattern, replacement in self.script.substitutions:
            text = re.sub(pattern, replacement, text)
        return text

    def next_reassembly(self, keyword_name: str, rule_index: int, options: list[str]) -> str:
        key = (keyword_name, rule_index)
        count = self.rotation.get(key, 0)
        self.rotation[key] = count + 1
        return options[count % len(options)]

    def apply_keyword(self, name: str, text: str, depth: int = 0) -> str | None:
        for index, candidate in enumerate(self.script.keywords[name].rules):
            match = candidate.pattern.search(text)
            if not match:
                continue
            groups = [self.reflect(group or "") for group in match.groups()] or [self.reflect(text)]
            if candidate.memorise:
                self.memory.append(self.next_reassembly(name, index, candidate.reassemblies).format(*groups))
                continue
            template = self.next_reassembly(name, index, candidate.reassemblies)
            if template.startswith("goto "):
                return self.apply_keyword(template[5:], text, depth + 1) if depth < 3 else None
            if "{" in template and not all(groups[int(n)] for n in re.findall(r"\{(\d)\}", template)):
                continue
            return template.format(*groups)
        return None

    def respond(self, text: str) -> str:
        if self.script.goodbye.search(text):
            return self.script.goodbyes[len(self.memory) % len(self.script.goodbyes)]
        clauses = [
            clause for clause in re.split(r"[.,!;]|\bbut\b|하지만|그런데", self.normalise(text)) if clause.strip()
        ]
        for clause in clauses or [""]:
            found = [name for name, kw in self.script.keywords.items() if kw.trigger.search(clause)]
            found.sort(key=lambda name: -self.script.keywords[name].rank)
            for name in found:
                reply = self.apply_keyword(name, clause.strip())
                if reply:
                    return reply
        if self.memory:
            return self.memory.popleft()
        reply = self.script.fallbacks[self.fallback_turn % len(self.script.fallbacks)]
        self.fallback_turn += 1
        return reply


def eliza_reply(payload: dict) -> str:
    """Replay the user's messages through a fresh ELIZA and answer the last one."""
    language = payload.get("language") if payload.get("language") in SCRIPTS else "en"
    eliza = Eliza(SCRIPTS[language])
    user_texts = [str(m.get("text", "")) for m in payload.get("messages", []) if m.get("role") == "user"]
    reply = (
        "안녕하세요. 무엇이 고민인지 말씀해 주세요."
        if language == "ko"
        else "How do you do. Please tell me your problem."
    )
    for text in user_texts:
        reply = eliza.respond(text)
    return reply


def main() -> None:
    parser = argparse.ArgumentParser(description="ELIZA (English and Korean) as a HuLiC bot.")
    add_server_arguments(parser)
    args = parser.parse_args()
    serve(eliza_reply, host=args.host, port=args.port, secret=args.secret)


if __name__ == "__main__":
    main()
