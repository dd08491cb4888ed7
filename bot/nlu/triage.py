"""Triage: is someone in danger right now, at high risk but not now, or neither?

A lexicon over the message, sentence by sentence, independent of any trained model: the
gateway runs it on every message before Rasa is asked (an emergency is recognised even when
Rasa is down), and Rasa's `LetterReader` runs the same function so both agree.

Three levels (docs/corpus.md has the labelling guide they follow):
- `danger_now`: violence happening or imminent, a weapon in hand, strangled or locked in,
  held or trafficked, a child harmed now or again tonight, intent to end one's life now →
  the emergency answer and an urgent case;
- `high_risk`: threats, past strangulation or weapons, ongoing or worsening violence,
  stalking, pregnancy, a child hurt repeatedly, anything alarming but not clearly now → the
  bot asks "Bạn có đang gặp nguy hiểm ngay lúc này không?" (yes escalates);
- `none`.

What decides between the first two is *time*. Violence is danger now when a word places it
now ("đang", "tối nay", "từ sáng tới giờ", "vẫn bị nhốt"; in a short message also "vừa",
"sắp", "đánh tiếp"), or when a short message cries for help ("cứu em"), says it wants to die,
or tells of being held or trafficked without saying it is over. Anything else alarming, and
every story of violence told in a letter, is high risk: the bot asks. Real texts measured
this: news quotes and letters tell severe violence without time words, and read as "now"
they raised most of the false alarms.

Patterns are written with Vietnamese marks and compiled by `normalize.marked_regex`: a word
typed with marks must match them ("giết cả" is not "giết cá", "tư vấn" is not "tự vẫn"); a
word typed without marks matches the bare letters (recall first). Idioms that contain
alarming words are removed first; a negation shortly before a match cancels it.

Without marks many words are several words, and the alarming reading is rarely the common
one. Measured on real letters typed without marks, these raised false alarms, so:
- in a letter, an unmarked "dang" (đang, but also đáng, đăng, đằng, dạng) places violence
  now only when something else in the letter does too (a time word such as "tối nay",
  "bây giờ", "vừa xong", "hôm nay", a marked or unambiguous now-word, a cry for help);
  otherwise the bot asks. A short message keeps "dang" as "now" (recall first). "toi nay"
  after "từ …" is "tới nay" (since then), not "tối nay" (tonight);
- a cue whose key word typed bare is mostly an everyday word ("da": đã/dạ, "day": dạy/đây,
  "ban": bạn, "giam": giảm, "troi": trời) gives at most high risk: the bot asks;
- a few everyday phrases typed bare are removed like idioms ("dạ" opening a sentence,
  "đã có", "đối xử"), and the negations whose bare letters are other words ("cha" father,
  "chang", "dung" đứng, "het" hét, "thoi" thời) negate only when typed with their marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlu.normalize import marked_regex, matchable
from bot.vietnamese import strip_marks

DANGER_NOW, HIGH_RISK, NONE_LEVEL = "danger_now", "high_risk", "none"
_RANK = {NONE_LEVEL: 0, HIGH_RISK: 1, DANGER_NOW: 2}

# People, written with marks (unmarked text matches them too).
_ME = (
    r"(tôi|em|mình|con|cháu|mẹ|chị|tao|bé|cô|bà|vợ|tui|tớ|chúng tôi|chúng em|tụi em|tụi tôi|tụi mình|bọn em|bọn tôi|"
    r"chúng mình|mẹ con|hai mẹ con|ba mẹ con|cả nhà)"
)
_WEAPON = r"(dao|rựa|búa|gậy|kiếm|kéo|xà beng|súng|xăng|axit|a xít|dao phay|mã tấu|chai|ghế|cuốc|thuổng|thanh sắt|gạch)"
_ACT = r"(đánh|đập|đấm|đá|tát|xô|đẩy|quật|vụt|quất|trói|đánh đập|hành hạ|bạo hành|đánh tiếp)"
_SEVERE = r"(chém|đâm|bóp cổ|siết cổ|bóp họng|đốt|tạt xăng|tạt axit|xiết cổ|dìm|treo)"


@dataclass(frozen=True)
class Cue:
    kind: str  # cry | severe | act | threat | captivity | trafficking | sexual | self_harm | child | risk | vague
    category: str  # danger_to_life | sexual_violence | trafficking | child | self_harm
    pattern: re.Pattern
    negatable: bool = True  # False: a negation before it does not cancel it ("ko ai cứu em")
    bare_doubt: bool = False  # typed without marks it is also a common word: at most high risk
    # Words that, typed without marks inside the match, are more often an everyday word than
    # the alarming one ("da" is đã/dạ before it is đá, "day" dạy/đây before đẩy): at most high risk.
    doubt: re.Pattern | None = None

    def doubtful(self, matched: str) -> bool:
        if self.bare_doubt and strip_marks(matched) == matched:
            return True
        return bool(self.doubt and self.doubt.search(matched))


def _cues(kind: str, category: str, *patterns: str, negatable: bool | None = None,
          bare_doubt: bool = False, doubt: str | None = None) -> list[Cue]:
    if negatable is None:
        negatable = kind not in ("cry", "self_harm")
    words = re.compile(rf"\b({doubt})\b") if doubt else None  # matched as typed: bare letters only
    return [Cue(kind, category, marked_regex(p), negatable, bare_doubt, words) for p in patterns]


# Bare words with an everyday reading besides the alarming one (see `Cue.doubt`).
_ACT_DOUBT = "da|day|tat|troi|vut|quat|dam|danh ba"  # đã/dạ, dạy/đây/dậy, tất/tắt, trời, vứt, quát, dám, danh bạ


# "tư vấn giúp em với", "chỉ giúp em với", "luật sư / admin / mọi người giúp em với": a polite
# request for advice, the closing line of many letters, not a cry for help (fixed-width
# look-behinds, one per word; `_clean` has made "tư vấn" "hỏi").
_ASKING = "".join(f"(?<!{word} )" for word in (
    "vấn", "hỏi", "chỉ", "xem", "đáp", "lời", "dẫn", "thích", "biết", "khuyên", "tìm", "hiểu", "tính", "nghĩ",
    "giải", "sư", "ad", "admin", "người"))


CUES: list[Cue] = [
    # Cries for help.
    *_cues("cry", "danger_to_life",
           rf"\bcứu (lấy |giúp |với |giùm |gium )?{_ME}\b", r"\bcứu (với|giúp|giùm|mạng)\b",
           r"\b(help|sos|help me)\b", rf"{_ASKING}\bgiúp (tôi|em|mình|con|tui) với\b",
           r"\b(gọi|báo) (công an|cảnh sát|113|115) (giúp|hộ|giùm|dùm) ",
           r"\bcứu (lấy |giúp |giùm |dùm )?(người thân|vợ|chồng|anh|bố|ba|cháu|bạn|nó|họ|chúng|tụi|mạng)\b",
           r"\b(hãy|xin|mong|nhờ|làm ơn) (\w+ ){0,3}giải cứu\b"),
    # A child's plea to the one hurting them ("bố đừng xích con nữa"): never read as a negation.
    *_cues("cry", "child",
           r"\bđừng (đánh|xích|nhốt|kéo|đánh đập|đốt|trói|đạp|bóp cổ|giết) (con|cháu|em|mẹ|bé)\b",
           r"\b(tha|tha cho) (con|cháu|em) (đi|với)\b"),
    # Severe violence and weapons.
    *_cues("severe", "danger_to_life",
           rf"\b(cầm|vung|cầm theo|lấy|mài|cầm sẵn|rút|kề|vác|xách) ?(cái |con |cây |chai |khẩu )?{_WEAPON}\b",
           rf"\b{_WEAPON} (kề|chém|đâm|dọa|vào cổ|vào người)\b",
           rf"\b(bị|đã bị) {_SEVERE}\b",
           # "bị chồng đâm", "bị nó chém": the one who did it named in between (not a car, a bee, a mosquito)
           rf"\bbị (?!(xe|ô tô|tàu|ong|muỗi|kiến|chó|rắn|rết|bọ)\b)(\w+ ){{1,3}}{_SEVERE}\b",
           r"\b(bóp cổ|siết cổ|xiết cổ|bóp họng|thắt cổ)\b",
           r"\b(mất|ra nhiều|bê bết|đầy) máu\b", r"\bmáu (chảy|me|đầm đìa|không cầm)\b",
           r"\b(ngất xỉu|ngất đi|bất tỉnh|gãy xương|gãy tay|gãy chân|gãy mũi|vỡ đầu|thủng đầu|bể đầu|rạn xương)\b",
           r"\b(đốt nhà|tạt xăng|tẩm xăng|tạt axit|xịt axit|phóng hỏa|đổ xăng)\b",
           r"\b(đánh|đâm|chém) (chết|đến chết|cho chết|thừa sống thiếu chết|nhừ tử)\b"),
    *_cues("severe", "danger_to_life", rf"\b{_WEAPON} dí\b", rf"\bdí ?(cái |con |cây |chai |khẩu )?{_WEAPON}\b",
           doubt="keo di|di kiem|di keo"),  # kéo đi, đi kiếm
    *_cues("severe", "danger_to_life", rf"\b{_SEVERE} {_ME}\b", doubt="dam me|dam co"),  # đam mê, dám có
    # Hitting, beating.
    *_cues("act", "danger_to_life",
           rf"\b{_ACT} {_ME}\b", rf"\b(bị|đang bị) ({_ACT}|đánh ghen)\b", rf"\bbị (\w+ ){{1,2}}{_ACT}\b",
           doubt=_ACT_DOUBT),
    *_cues("act", "danger_to_life",
           r"\b(đánh|đập) (phá|đồ|cửa)\b", r"\b(đánh đập|hành hạ|bạo hành|ngược đãi|đánh đòn|ăn đòn)\b",
           r"\bđánh tiếp\b", r"\b(quay lại|lại|về) (đánh|đập)\b"),
    # Threats to kill or hurt.
    *_cues("threat", "danger_to_life",
           r"\b(dọa|đe dọa|đe doạ|doạ|tuyên bố|nói sẽ|sẽ|quyết|đòi|thề) (giết|chém|đâm|đốt|tạt|xử|thanh toán|cho chết)\b",
           doubt="tat"),  # sẽ tắt (máy)
    *_cues("threat", "danger_to_life",
           r"\b(giết|chém) (chết|cả|hết|luôn) ", r"\bgiết (tôi|em|mình|mẹ con|cả nhà|con|cháu|tui|vợ)\b",
           r"\b(dọa|đe dọa|doạ) (đánh|tạt|chém|bắt con|cướp con|tung|đăng)\b",
           r"\bkhông (tha|để yên) cho\b", r"\bkhông (thì )?(tao|tau) (giết|chém|đâm|đánh|đập|xử)\b"),
    # Held, locked in, chained, kept from leaving.
    *_cues("captivity", "danger_to_life",
           rf"\b(nhốt|khóa trái|khoá trái|xích|trói|giam) {_ME}\b",
           r"\bbị (nhốt|giam lỏng|giam|xích|trói|khóa trong|khoá trong|khóa trái|cầm tù|giữ lại|bắt giữ)\b",
           r"\bbị (\w+ ){1,3}(nhốt|xích|trói|khóa trái|khoá trái)\b",  # "bị chồng nhốt"
           doubt="giam|troi"),  # giảm (lương), trời
    *_cues("captivity", "danger_to_life",
           r"\b(xích cổ|xích chân|xích tay|xiềng)\b",
           r"\bkhông cho (ra khỏi nhà|ra ngoài|đi ra|thoát|bỏ đi|liên lạc|dùng điện thoại|gọi điện|đi đâu|gặp ai|ra khỏi)\b",
           r"\b(trốn|bỏ trốn|chạy trốn)( \w+){0,6} (bị bắt lại|không thoát|đều thất bại|bất thành|bị đánh)\b",
           r"\b(đang trốn|phải trốn|đang nấp|trốn (trong|dưới|ra|sang|qua|ở nhà))\b"),
    # Trafficking and debt bondage.
    *_cues("trafficking", "trafficking",
           r"\b(bị )?(bán|lừa bán|đem bán|bắt cóc|bắt đi|lừa|đưa) (sang|qua|đi) (trung quốc|tq|campuchia|cam|lào|nước ngoài|biên giới|myanmar|malaysia)\b",
           r"\b(mua bán người|buôn người|bán người)\b",
           r"\b(giữ|thu|lấy|tịch thu) (hết )?(giấy tờ|hộ chiếu|cccd|căn cước|chứng minh|điện thoại)\b",
           r"\b(không cho về|không được về|không cho (về|trở về) (nước|việt nam|quê))\b",
           r"\b(bắt|ép|cưỡng ép|bị ép) (làm gái|bán dâm|tiếp khách|đi khách|làm việc không lương)\b",
           r"\b(tiền chuộc|đòi chuộc|chuộc (\w+ )?(về|người|ra)|trả nợ mới cho về)\b",
           r"\b(trả|gánh|ôm) (hết )?nợ (mới|thì mới) (cho|được|thả) (về|đi|ra)\b",
           r"\bbị bắt cóc\b", r"\b(mới|thì mới) (thả|trả) (người|con|em|nó|về)\b",
           r"\bmuốn về (mà|nhưng) (không được|không cho|họ không cho)\b",
           r"\b(xin|van xin|năn nỉ|cầu xin) (\w+ ){0,3}(thả|cho) (\w+ ){0,2}(về|trở về)( \w+){0,4} (nhưng|mà) (không được|không cho)\b",
           r"\b(không chịu|từ chối) (tiếp khách|đi khách|làm)( \w+){0,4} (bị )?(đánh|đập|bỏ đói)\b"),
    *_cues("trafficking", "trafficking",  # "ban" is bạn, bàn, bản as often as bán
           r"\bbị bán(?! (bè|trai|gái|học|thân|cùng|đời|hàng|thân|của|lớp|bên))\b",
           r"\bbán (vợ|con|em|cô ấy|nó|tôi|tui|mình|cháu|chị|chúng em|tụi em) (cho|sang|qua|làm vợ)\b",
           r"\bbán (\w+ )?sang\b", doubt="ban"),
    # Sexual violence.
    *_cues("sexual", "sexual_violence",
           r"\b(hiếp dâm|cưỡng hiếp|hiếp|cưỡng dâm|hãm hiếp|giao cấu|dâm ô)\b",
           rf"\b(xâm hại|làm nhục|cưỡng bức) (tình dục|thân thể|{_ME})\b",
           r"\bbị (xâm hại|cưỡng bức|làm nhục|sờ soạng|lạm dụng tình dục)\b",
           r"\bbị (\w+ ){1,3}(xâm hại|cưỡng bức|lạm dụng|sờ soạng|hiếp)\b"),  # "bị bố dượng xâm hại"
    # A child harmed.
    *_cues("child", "child",
           r"\b(bắt|phạt) (em|con|cháu|nó|bé) (quỳ|nhịn đói|đứng ngoài|ngủ ngoài)\b",
           r"\b(không cho|chẳng cho) (em|con|cháu|nó|bé)? ?(ăn|uống|ngủ)\b", r"\b(bỏ đói|nhịn đói)\b",
           r"\b(lột|cởi) (hết )?(quần )?(áo|đồ)\b",
           r"\b(đánh|vụt|quất) (bằng|bởi) (roi|thước|dây|gậy|móc|chổi|dép|thắt lưng)\b",
           r"\b(con|bé|cháu) (đang|vừa|lại) bị (đánh|xâm hại|hiếp|bắt|nhốt|đâm)\b",
           r"\b(bắt cóc|bắt mất) (con|bé|cháu)\b"),
    *_cues("child", "child", rf"\b{_ACT} (một |hai đứa )?(con|bé|cháu|đứa nhỏ|thằng bé|con bé|con gái|con trai|nó)\b",
           doubt=_ACT_DOUBT),  # dạy con
    # What a neighbour hears: "vừa đánh vừa chửi một bé gái", the lash of a cane ("tiếng roi vụt").
    *_cues("child", "child",
           rf"\bvừa {_ACT} vừa (chửi|mắng|la|quát)( mắng| bới)? (một |đứa )?(con|bé|cháu|đứa|thằng|cô bé|cậu bé)\b",
           r"\b(tiếng|những) roi (vụt|quất|vút)\b", r"\btiếng roi\b"),
    # Self-harm.
    *_cues("self_harm", "self_harm",
           r"\b(muốn|sẽ|định|tính|chỉ muốn|thèm|quyết định) (chết|tự tử|tự sát|kết liễu|ra đi mãi mãi|tự vẫn)\b",
           r"\b(tự sát|quyên sinh|tự kết liễu|tự vẫn)\b",
           r"\bkhông (muốn|thiết|còn muốn|còn thiết|muốn tiếp tục) sống\b",
           r"\b(chán sống|sống làm gì|sống để làm gì|sống không nổi|chết cho xong|chết đi cho rồi|chết quách|chết cho rồi)\b",
           r"\b(kết thúc|chấm dứt|kết liễu) (tất cả|cuộc đời|cuộc sống|đời mình|mạng sống|mọi thứ)\b",
           r"\b(uống|nuốt) (thuốc ngủ|thuốc chuột|thuốc trừ sâu|cả vỉ thuốc|nhiều thuốc|hết vỉ thuốc|cả lọ thuốc|thuốc diệt cỏ)\b",
           r"\b(mua|gom|tích|để dành|cầm|có sẵn) (\w+ ){0,3}(thuốc ngủ|thuốc chuột|thuốc trừ sâu|thuốc diệt cỏ)\b",
           r"\b(cắt|rạch) (tay|cổ tay|mạch|cổ)\b", r"\b(nhảy|gieo mình) (sông|cầu|lầu|xuống sông|từ tầng|xuống)\b",
           r"\btreo cổ\b", r"\b(biến mất|ra đi) (mãi mãi|khỏi thế giới này|vĩnh viễn)\b",
           r"\b(không|chẳng) (còn )?(lý do|gì) để sống\b", r"\b(vĩnh biệt|lời cuối)\b",
           # Farewell letters, in the words they are really written in.
           r"\bkhông (thể|còn|muốn) (sống|chịu|chịu đựng|chịu nổi|tồn tại)( được| nổi| thêm)?( \w+){0,4} nữa\b",
           r"\bkhông (thể )?sống (nổi|được) (nữa|trên cõi đời|trên đời)\b",
           r"\b(tìm|được|xin) (sự )?giải thoát\b", r"\bbuông xuôi( tất cả| hết| mọi thứ)?\b(?! (tay|chân))",
           r"\b(để|khi|sẽ|phải|xin phép|xin được) (em|con|tôi|mẹ|chị|anh)? ?ra đi\b(?! (làm|học|chơi|công tác|lập nghiệp))",
           r"\b(ảnh|di ảnh|ảnh cưới) (để )?thờ\b",
           r"\bkhông (nên|đáng) (xuất hiện|sinh ra|có mặt|tồn tại) (trên|ở|trong)\b",
           r"\b(không còn|không có|hết) (con )?(đường|lối) (thoát|lựa chọn|nào)\b",
           r"\b(đem|mang|dẫn) (\w+ )?(đứa|con|các con|cháu) (theo|đi theo|đi cùng)\b",
           r"\b(chết|ra đi|đi) (cùng|theo) (các con|con|mẹ con)\b",
           r"\b(xin lỗi|có lỗi với) (ba mẹ|bố mẹ|ba má|cha mẹ|bố|ba|má)\b(.*)\b(mệt|chịu|nản|không thể|yếu đuối|bế tắc)\b"),
    # High-risk indicators (never danger now by themselves).
    *_cues("risk", "danger_to_life",
           r"\b(theo dõi|đeo bám|rình rập|rình|bám theo|tìm đến tận|chặn đường|đến tận nhà)\b",
           r"\b(nhắn tin|gọi điện) (đe dọa|chửi|khủng bố)\b",
           r"\b(ngày càng|càng ngày càng|lần sau nặng hơn|nặng tay hơn|ngày một) (nặng|nhiều|nghiêm trọng|dã man|tệ)\b",
           r"\b(mang thai|có thai|có bầu|bầu \d+ tháng)\b.*\b(đánh|đạp|đá)\b",
           r"\b(đánh|đạp|đá)\b.*\b(mang thai|có thai|có bầu|đang bầu)\b",
           r"\b(nguy hiểm|khẩn cấp|không an toàn)\b", r"\b(sợ|hoảng) (quá|lắm|chết|hãi)\b",
           r"\bkhông (dám|thể) về nhà\b", r"\b(mất liên lạc|không liên lạc được)( với)? (con|em|cháu|vợ|chị|nó)\b"),
    # Typed without marks these are also everyday words ("tu tu" = từ từ, slowly; "chay mau"
    # = chạy mau, run quickly; "cua co" = của cô): with marks they count fully, without them the bot asks.
    *_cues("self_harm", "self_harm", r"\btự tử\b", r"\bcứa (tay|cổ tay|mạch|cổ)\b", bare_doubt=True),
    *_cues("severe", "danger_to_life", r"\b(chảy|chảy nhiều) máu\b", bare_doubt=True),
    # Forced labour and scam compounds (held, watched, beaten for quotas): high risk, the bot
    # asks; these words are as common in stories told after an escape as in pleas.
    *_cues("risk", "trafficking",
           r"\b(bắt|ép) (\w+ ){0,2}(làm|làm việc)( \w+){0,4} (không công|không lương|cả ngày|suốt ngày|đến khuya|thâu đêm|\d+ tiếng)\b",
           r"\blàm việc (\d+|mười mấy|hai mươi) (tiếng|giờ)\b", r"\bkhông (trả|được trả) lương\b",
           r"\b(không đủ|không đạt) (chỉ tiêu|doanh số|kpi)\b", r"\b(lừa đảo qua mạng|lừa đảo online|việc nhẹ lương cao)\b",
           r"\bbắt (\w+ ){0,2}(gọi|nhắn)( \w+){0,3} (về|cho) (nhà|gia đình|bố mẹ|người nhà)( \w+){0,3} (tiền|chuộc)\b",
           r"\bbị (đưa|chuyển|bán) (đi|sang|qua) (\w+ ){0,2}(khác|nơi khác|công ty khác|chỗ khác)\b",
           r"\b(có người|bị) (canh|canh giữ|canh gác|giám sát|theo dõi) (suốt|24|cả ngày|ngày đêm)\b",
           r"\b(dùi cui|roi điện|chích điện|dí điện|sốc điện)\b", r"\b(vượt biên|qua biên giới|sang biên giới)\b",
           r"\b(mang|gửi|chuyển|lo) tiền (\w+ ){0,2}chuộc\b"),
    # Threatened, without saying with what: high risk, the bot asks.
    *_cues("risk", "danger_to_life", r"\b(bị|họ|nó|hắn|anh ta|ông ta|chồng|chồng cũ) (\w+ )?(đe dọa|đe doạ|hăm dọa|dọa dẫm|khủng bố)\b"),
    # Telling of a cry for help: high risk, whatever negation surrounds it.
    *_cues("risk", "danger_to_life", r"\b(kêu cứu|cầu cứu|cầu xin cứu)\b", negatable=False),
    # Alarming words that mean little alone: a question in a short message, nothing in a letter.
    *_cues("vague", "danger_to_life", r"\b(chết|giết|máu|dao)\b"),
]

# Among cues of the same level, the earlier kind names the case's category.
_KIND_ORDER = ("self_harm", "child", "sexual", "trafficking", "captivity", "cry", "severe", "threat", "act", "risk", "vague")
CUES.sort(key=lambda cue: _KIND_ORDER.index(cue.kind))

# Idioms containing alarming words, removed first.
IDIOMS = [marked_regex(p) for p in [
    r"\b(cười|nóng|lạnh|mệt|đói|vui|buồn cười|no|ngại|buồn ngủ|ngon|thơm|đẹp|dễ thương|nhớ|yêu|ghét|bận|khó chịu|hồi hộp|tức|chán|thích|đau bụng|sợ|xấu hổ|lo) (muốn |gần |sắp |đến )?chết( đi được| mất| rồi| luôn| đi| thôi)?\b",
    r"\bchết (cười|mệt|tiệt|thiệt|điếng|khiếp|dở)\b",
    r"\b(giết thời gian|hết đất sống|sống chết mặc bay|chết một cái|sinh tử|chết đuối vớ|thập tử nhất sinh)\b",
    r"\bgiết (thịt|gà|heo|lợn|vịt|bò|cá|muỗi|kiến|gián|chuột|mổ)\b(?! (hai|ba|bốn|cả|nhà|mẹ|bố|con|gia đình|tôi|em|luôn))",
    r"\b(phim|game|truyện|bài hát|tiểu thuyết)( \w+){0,4} (giết|chết|máu|đâm)\b",
    r"\b(khẩn cấp|nguy hiểm)( \w+){0,2} (không|à|nhỉ|thế nào|là gì)$",
    r"\b(truy cứu|cứu trợ|cứu hộ|cứu nạn|cứu tinh|cứu vớt|cứu thế|cứu cánh|cứu hỏa|cứu chữa|cấp cứu|cứu vãn|cứu giúp đỡ)\b",
    r"\b(đánh (răng|giá|máy|bài|cờ|đề|lô|thức|điện|dấu|son|bóng|rơi|mất|lừa|vần|trống|chén|cầu lông|bạn|số|đổ|bạc|thuế|phấn|nhau chơi))\b",
    r"\bbị (lừa|lừa tiền|lừa dối)\b(?! (sang|qua|bán|đi))",
    r"\b(đá (bóng|banh|cầu|gà))\b", r"\b(dao động|dao kéo|xích mích)\b", r"\b(giữ|lấy) (hết )?(tiền|lương|tiền lương|thẻ)\b",
]]
# Words whose folded form is alarming but that the resident wrote with settling marks, and
# everyday phrases typed without marks that are far likelier than the alarming reading:
# "dạ" opening a sentence, "đã có", "đối xử", "mâu thuẫn", "mẫu đơn", "dạo này".
EXACT_IDIOMS = [marked_regex(p, exact=True) for p in [
    r"\btừ từ\b", r"\btừng trải\b", r"^da\b", r"\bda co\b", r"\bdoi xu\b",
    r"\bmau (thuan|giao|don)\b", r"\bdao (nay|gan day|truoc)\b"]]

_NEGATION = marked_regex(
    r"\b(không|chưa|đâu có|không có ai|chưa bao giờ|không bao giờ|không còn|chưa từng|không hề)\b( \w+){0,3}$"
)
# Negations that typed without marks are other common words: cha (father), chàng, đứng/dùng,
# hét, thời/thói. Only their marks make them a negation (recall first).
_NEGATION_MARKED = marked_regex(r"\b(chẳng|chả|đừng|hết|thôi)\b( \w+){0,3}$", exact=True)
# When the danger is: `_DEIXIS` places a whole sentence now ("tối nay", "ngay bây giờ");
# `_NOW` marks the verb next to it ("đang", "vẫn bị"); `_SOON` ("vừa", "sắp", "đánh tiếp")
# counts only in a short message, where nothing else tells the time.
_DEIXIS = marked_regex(
    r"\b(ngay bây giờ|(?<!như )(?<!bằng )(?<!lúc )(?<!khi )(?<!hồi )(?<!thời )(?<!vào )(?<!đến )(?<!tới )(?<!tận )(?<!buổi )bây giờ(?! (\w+ )?(phải|nên|muốn|biết|không biết|có nên|làm sao|thì sao|thế nào|ra sao))|"
    r"bây h|giờ này|lúc này|ngay lúc này|(?<!đó )(?<!đấy )(?<!ấy )(?<!cho )(?<!khi )(?<!lúc )tối nay(?! (\w+ ){0,2}\d+ tuổi)|đêm nay(?! sang)|chiều nay|"
    r"lát nữa|ngay bây h|từ (sáng|trưa|chiều|tối|hôm qua|tối qua|đêm qua) (tới|đến) (giờ|nay|bây giờ))\b"
)
_NOW = marked_regex(
    r"\b(?<!dù )(?<!khi )(?<!lúc )(?<!dễ )(?<!dịu )(?<!cao )(?<!ngậm )(?<!cay )(?<!đa )(?<!dọa )(?<!doạ )(?<!nhận )"
    r"((còn |vẫn |hiện )?đang(?! (sợ|thương|lẽ|ghét|kể|giá|yêu|tiếc|buồn|ngại|lo|trách|kinh|khen|nể|mặt|tin|quý|"
    r"đời|chú ý|ngờ|cho con|ăn|ngủ|làm|học|mang|viên|ký|kí|nhập|bài|hoàng|tải|ảnh|những|các|mấy|hình|clip|video|"
    r"story|status|facebook|fb|sau|trước|kia|nào|ấy|người|tiền|chân|có bầu|có thai|có mang|bầu|ly hôn|li hôn|"
    r"ly thân|nuôi))|hiện vẫn|"
    r"(vẫn|còn) (bị|đang bị) (nhốt|giam|giữ|xích|trói|bắt giữ)|hiện (em|tôi|cô ấy|con bé|chị ấy|nó) (đang|vẫn)|giờ đây|"
    r"không thở (được|nổi)|không (đứng dậy|cử động|chạy) (được|nổi))\b"
)
_SOON = marked_regex(
    r"\b(sắp|chuẩn bị|vừa mới|vừa (bị|đánh|đập|bóp|chém|đâm|cầm|dọa|nhốt|xảy ra|chạy|trốn)(?!( \w+){0,3} vừa\b)|đánh tiếp|"
    r"quay lại đánh|về đánh tiếp|mấy ngày nay|mấy hôm nay|(?<!bà )(?<!ông )ngoài cửa|đập cửa)\b"
)
_PAST = marked_regex(
    r"\b(năm ngoái|năm trước|hồi trước|hồi đó|hồi ấy|ngày xưa|trước đây|năm xưa|đã lâu|đã từng|từng|có lần|lần trước|"
    r"hôm trước|tháng trước|tuần trước|năm \d{4}|\d+ năm trước|mấy năm trước|hồi nhỏ|lúc nhỏ|khi còn nhỏ|"
    r"hồi còn|lúc đó|khi đó|hôm đó|ngày đó|hôm qua|tối qua|đêm qua|đã ly hôn|sau khi ly hôn|đã được giải cứu|"
    r"được giải cứu|đã trốn về|đã về nước|trốn về được|lúc trước|thời gian trước|ngày trước|lần gần nhất|"
    r"lần mới nhất|lần gần đây nhất|lần đầu tiên|lần đầu)\b"
)
_HABIT = marked_regex(
    r"\b(thường xuyên|thường|hay|suốt ngày|suốt|nhiều lần|mỗi lần|mỗi khi|hễ|lúc nào cũng|hàng ngày|ngày nào cũng|"
    r"triền miên|liên tục|cứ|bao nhiêu năm|nhiều năm|mấy năm nay|thỉnh thoảng|đôi khi|những lần|các lần|lần nào cũng|"
    r"có khi|nhiều khi|những trận|trận đòn)\b"
)
# Someone else is the one in danger (a neighbour, a relative, a child): the reporter is asked where.
_OTHER = marked_regex(
    r"\b(hàng xóm|nhà bên cạnh|nhà bên|sát vách|bạn (tôi|em|mình|thân)|chị gái|em gái|cô ấy|chị ấy|bà ấy|"
    r"con gái (tôi|em|mình)|vợ (tôi|em)|cháu (tôi|em|gái)|đứa bé|con bé|thằng bé|bé gái|bé trai|đứa trẻ|"
    r"học sinh (của )?(tôi|em)|mẹ (tôi|em|mình) bị|em (tôi|mình) bị)\b"
)
_FIRST_PERSON_VICTIM = marked_regex(rf"\b({_ACT}|{_SEVERE}|nhốt|chửi) (tôi|mình|tui|tớ)\b|\b(tôi|mình|tui) (bị|đang bị)\b")
# A farewell written to one's parents: an apology and a sense of failure anywhere in the text.
_APOLOGY = marked_regex(
    r"\b((xin lỗi|có lỗi với|tha lỗi cho) (ba mẹ|bố mẹ|ba má|cha mẹ|bố|ba|má|mẹ|gia đình|mọi người)|"
    r"cảm ơn (ba mẹ|bố mẹ|ba má|cha mẹ)( \w+){0,8} (nuôi|sinh))\b"
)
_FAILURE = marked_regex(
    r"\b(yếu đuối|vô dụng|phụ lòng|không đáp ứng|không vượt qua|gánh nặng|bất hiếu|tệ hại|không xứng|thất vọng về con|"
    r"mệt mỏi|không chịu nổi|bế tắc|có lỗi|buồn vì con|khiến (cha mẹ|bố mẹ|ba mẹ|ba má|mọi người) buồn)\b"
)
# "đang" typed without marks is as often đáng, đăng, đằng, dạng: in a letter it places the
# danger now only when something else in the letter does too (`_NOW_ELSEWHERE`, a cry for help).
# "lúc này" in a story is its narrative present ("Lúc này anh ta lao vào đánh tôi"): the same.
_BARE_NOW = frozenset({"dang", "con dang", "gio day", "lúc này", "luc nay"})  # giờ đây, or giờ đấy (then)
# A time long enough ago that a "lúc này" after it is the story's, not the resident's now.
_ERA = marked_regex(
    r"\b(hồi (đó|ấy|trước|nhỏ|còn)|(khi|lúc|hôm|ngày) (đó|ấy)|năm \d{4}|lúc nhỏ|khi còn nhỏ|ngày (xưa|trước)|"
    r"năm (xưa|ngoái|trước)|trước đây|(\d+|mấy|vài) năm trước|thời gian trước|lúc trước)\b")
# Held "until now": a state that lasts (captivity) placed now by "từ đó đến nay".
_UNTIL_NOW = marked_regex(r"\b(từ đó|từ hôm đó|từ ấy|từ hồi đó|cho) (đến|tới) (nay|giờ|bây giờ|hôm nay)\b")
_SINCE = marked_regex(r"\b(từ|kể từ)( \w+){0,8} $")
_RECENT = marked_regex(
    r"\b(vừa xong|vừa rồi|vừa nãy|vừa mới|lúc nãy|khi nãy|hồi nãy|ban nãy|hôm nay|bữa nay|sáng nay|trưa nay)\b")
_SENTENCE = re.compile(r"(?<=[.!?…;\n])\s*|\s*\n\s*")


@dataclass(frozen=True)
class Assessment:
    level: str  # danger_now | high_risk | none
    category: str | None = None  # danger_to_life | sexual_violence | trafficking | child | self_harm
    rule: str | None = None  # "kind:time" of the deciding cue, for audits (never text)
    third_party: bool = False
    indicators: tuple[str, ...] = ()  # cue kinds seen, for the case and the evaluation

    @property
    def urgent(self) -> bool:
        return self.level == DANGER_NOW

    @property
    def asks(self) -> bool:
        return self.level == HIGH_RISK


NONE = Assessment(NONE_LEVEL)


def sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE.split(text or "")) if s]


def is_letter(text: str) -> bool:
    """A story with a question rather than a message sent in the moment."""
    words = len(re.findall(r"\w+", text or ""))
    return words >= 40 or (len(sentences(text)) >= 3 and words >= 20)


# "tư vấn" (advice), which typed without marks reads "tự vẫn" (suicide): an asking word.
_ADVICE = marked_regex(r"\b(xin )?tư vấn\b")


def _clean(sentence: str) -> str:
    text = _ADVICE.sub("hỏi", matchable(sentence))
    for idiom in (*EXACT_IDIOMS, *IDIOMS):
        text = idiom.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def _deixis(clean: str) -> list[str]:
    """The words that place a sentence now. Without marks "toi nay" after "từ …" is "(từ …)
    tới nay", since then, not "tối nay", tonight; "lúc này" after "hồi đó", "năm 2019" … is
    then, in the story ("hồi đó bố đánh mẹ suốt, lúc này em mới 10 tuổi")."""
    return [m.group(0) for m in _DEIXIS.finditer(clean)
            if not (m.group(0) == "toi nay" and _SINCE.search(clean[:m.start()]))
            and not (m.group(0) in ("lúc này", "luc nay") and _ERA.search(clean[:m.start()]))]


def _time(clean: str, start: int, end: int, letter: bool, corroborated: bool = True) -> str:
    """now | now? | soon | past | habitual | unmarked, for the cue at clean[start:end]. In a
    letter only words that place the sentence now count, or "đang"/"vẫn bị" right before the
    cue; and when the only such word is an unmarked "dang" and nothing else in the letter
    places it now (not `corroborated`), the time is "now?" (the bot asks)."""
    before, after = clean[max(0, start - 60):start], clean[end:end + 50]
    near = before[-20:] if letter else before
    words = _deixis(clean) + [
        m.group(0) for part in (near, clean[start:end], "" if letter else after) for m in _NOW.finditer(part)]
    if words:
        doubtful = letter and not corroborated and all(w in _BARE_NOW for w in words)
        return "now?" if doubtful else "now"
    past = _PAST.search(before) or _PAST.search(after[:25])
    if not past and (_SOON.search(before + clean[start:end]) or _SOON.search(after[:20])):  # "vừa" + "bị đâm"
        return "soon"
    if past:
        return "past"
    if _HABIT.search(before[-35:]):
        return "habitual"
    return "unmarked"


def _level(kind: str, time: str, letter: bool) -> str:
    """The level one cue gives, by its kind, its time and whether the text is a letter
    ("now?", a letter's unmarked "dang", gives high risk: the bot asks)."""
    if kind == "vague":
        return NONE_LEVEL if letter else HIGH_RISK
    if kind == "risk":
        return HIGH_RISK
    if time == "now" or (time == "soon" and not letter):
        return DANGER_NOW
    if kind in ("captivity", "trafficking") and not letter:  # a state that lasts until it is said to be over
        return HIGH_RISK if time in ("past", "habitual") else DANGER_NOW
    if time == "past":
        return NONE_LEVEL if kind == "act" and letter else HIGH_RISK
    if not letter and time == "unmarked" and kind in ("cry", "self_harm"):
        return DANGER_NOW
    return HIGH_RISK


def assess(text: str) -> Assessment:
    """Triage the whole message; the highest level of any cue decides."""
    if not text or not text.strip():
        return NONE
    letter = is_letter(text)
    best: tuple[int, int, str, str] | None = None  # (rank, priority, kind:time, category)
    kinds: set[str] = set()
    cleaned = [c for c in (_clean(s) for s in sentences(text)) if c]
    corroborated = not letter or any(
        any(w not in _BARE_NOW for w in _deixis(c)) or _RECENT.search(c)
        or any(m.group(0) not in _BARE_NOW for m in _NOW.finditer(c))
        or any(cue.kind == "cry" and cue.pattern.search(c) for cue in CUES) for c in cleaned)
    for clean in cleaned:
        for priority, cue in enumerate(CUES):
            for match in cue.pattern.finditer(clean):
                if cue.negatable and _negated(clean, match.start()):
                    continue
                time = _time(clean, match.start(), match.end(), letter, corroborated)
                if cue.kind == "captivity" and time != "past" and _UNTIL_NOW.search(clean[match.end():match.end() + 40]):
                    time = "now"  # "nhốt tôi trong cũi sắt từ đó đến nay": still held
                level = _level(cue.kind, time, letter)
                if level == DANGER_NOW and cue.doubtful(match.group(0)):
                    level = HIGH_RISK
                kinds.add(cue.kind)
                candidate = (_RANK[level], -priority, f"{cue.kind}:{time}", cue.category)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
                break
    plain = matchable(text)
    if (best is None or best[0] == 0) and _APOLOGY.search(plain) and _FAILURE.search(plain[_APOLOGY.search(plain).end():]):
        best, kinds = (1, 0, "farewell:unmarked", "self_harm"), kinds | {"self_harm"}
    third = bool(_OTHER.search(plain)) and not _FIRST_PERSON_VICTIM.search(plain)
    if best is None or best[0] == 0:
        return Assessment(NONE_LEVEL, third_party=third)
    rank, _, rule, category = best
    level = DANGER_NOW if rank == 2 else HIGH_RISK
    if third and category == "danger_to_life" and _mentions_child(text):
        category = "child"
    return Assessment(level, category, rule, third, tuple(sorted(kinds)))


def _negated(clean: str, start: int) -> bool:
    before = clean[max(0, start - 40):start].rstrip()
    return bool(_NEGATION.search(before) or _NEGATION_MARKED.search(before))


_CHILD = marked_regex(r"\b(đứa bé|con bé|thằng bé|bé gái|bé trai|đứa trẻ|trẻ em|cháu bé|\d+ tuổi|học sinh)\b")


def _mentions_child(text: str) -> bool:
    return bool(_CHILD.search(matchable(text)))
