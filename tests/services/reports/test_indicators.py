"""The programme's indicators (docs/indicators.md): small cells hidden so that no total gives
them away, and every figure equal to a hand computation over synthetic activity."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services import indicators, stats
from bot.services.indicators import ReportError, compute, parse_period, share, suppress
from bot.services.quiz import quizzes
from bot.storage import activity
from tests.services.reports.synthetic import (
    BD,
    HT,
    KT,
    CaseSpec,
    add_attempt,
    add_campaign,
    add_cases,
    add_place,
    at,
    count,
    random_activity,
)

# --- small cells -------------------------------------------------------------------------------


def test_a_table_without_small_cells_is_printed_with_its_totals():
    assert suppress([[5, 10], [0, 7]]) == [["5", "10", "15"], ["0", "7", "7"], ["5", "17", "22"]]


def test_a_small_cell_alone_in_its_row_and_column_takes_the_next_smallest_with_it():
    shown = suppress([[3, 10, 0], [20, 7, 8]])
    assert shown[0] == ["<5", "x", "0", "13"]  # 3 hidden, and 10 so that 13 - 10 does not give it
    assert shown[1] == ["x", "x", "8", "35"]  # 20 (column of 3) then 7 (column of 10)
    assert shown[2] == ["23", "17", "8", "48"]


def test_a_small_total_is_hidden_too():
    assert suppress([[2, 0]]) == [["<5", "0", "<5"], ["<5", "0", "<5"]]


def test_without_totals_only_the_small_cells_are_hidden():
    assert suppress([[2, 9], [6, 8]], row_totals=False, col_totals=False) == [["<5", "9"], ["6", "8"]]


def _counts():
    return st.integers(1, 5).flatmap(lambda cols: st.lists(
        st.lists(st.integers(0, 12), min_size=cols, max_size=cols), min_size=1, max_size=6))


@settings(max_examples=200, deadline=None)
@given(_counts())
def test_no_hidden_cell_can_be_worked_out_from_a_row_or_column_total(counts):
    shown = suppress(counts)
    grid = indicators.with_totals(counts)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            assert (shown[i][j] == "<5") == (0 < value < 5)  # every small cell, and only those, is "<5"
            if shown[i][j] == "x":
                assert value >= 5
    for line in [list(r) for r in shown] + [list(c) for c in zip(*shown)]:
        hidden = sum(cell in ("<5", "x") for cell in line)
        assert hidden != 1


def test_shares():
    assert share(10, 10) == "100%"
    assert share(9, 12) == share(3, 12) == share(3, 3) == "Không công bố (số nhỏ)"
    assert share(5, 20) == "25%"
    assert share(0, 0) == "Không có trường hợp"


# --- periods and units -------------------------------------------------------------------------


def test_periods():
    h1 = parse_period("2026-H1")
    assert (h1.start, h1.end, h1.label) == (date(2026, 1, 1), date(2026, 7, 1), "6 tháng đầu năm 2026")
    year = parse_period("2026")
    assert (year.start, year.end, year.label) == (date(2026, 1, 1), date(2027, 1, 1), "năm 2026")
    assert parse_period("2026-H2").start == date(2026, 7, 1)


@pytest.mark.parametrize("bad", ["", "2026-H3", "26", "2026-Q1", "1999", "2026 H1"])
def test_a_bad_period_is_refused_in_english(bad):
    with pytest.raises(ReportError, match="period must be"):
        parse_period(bad)


def test_units_by_current_or_former_name():
    assert indicators.resolve_unit("Tứ Hạ") == HT
    assert indicators.resolve_unit(None) is None
    with pytest.raises(ReportError, match="unknown unit"):
        indicators.resolve_unit("Quận 1")


# --- figures against a hand computation --------------------------------------------------------

NOW = at("2026-06-10 12:00")


@pytest.fixture
def scenario(db_url):
    count("2025-12-31 23:00", "web", activity.CONVERSATION, 1)  # before the period
    count("2026-01-03 09:00", "web", activity.CONVERSATION, 3)
    count("2026-01-20 09:00", "telegram", activity.CONVERSATION, 6)
    count("2026-02-01 00:30", "zalo", activity.CONVERSATION, 10)  # Huế day 1 February
    count("2026-03-31 23:59", "web", activity.CONVERSATION, 7)
    count("2026-06-12 09:00", "web", activity.CONVERSATION, 5)  # after "now"
    count("2026-01-04 09:00", "web", activity.DISCLOSURE, 2)
    count("2026-01-05 09:00", "web", activity.REFERRAL + "police", 6, HT)
    count("2026-01-05 10:00", "telegram", activity.REFERRAL + "legal_aid", 2)
    count("2026-02-05 10:00", "zalo", activity.REFERRAL + "shelter", 1, KT)
    count("2026-02-06 10:00", "zalo", activity.REFERRAL + "hotline", 1, BD)
    add_cases(
        CaseSpec("2026-01-10 08:00", HT, "referred_police", ack_minutes=2),
        CaseSpec("2026-02-10 08:00", HT, "counselled", ack_minutes=4),
        CaseSpec("2026-03-10 08:00", KT, "unreachable"),  # nobody took it
        CaseSpec("2026-03-11 08:00", None, "false_alarm", ack_minutes=1),
        CaseSpec("2026-04-10 08:00", BD, "referred_legal_aid", ack_minutes=300, category="contact_request"),
        CaseSpec("2026-05-10 08:00", HT, None, ack_minutes=6),  # open
        CaseSpec("2026-06-05 08:00", HT, "referred_shelter", ack_minutes=10, closed_minutes=7 * 24 * 60),  # closed after now
        CaseSpec("2025-12-31 08:00", HT, "counselled", ack_minutes=1),  # before the period
    )
    add_place("ht", HT, True, date(2026, 1, 5))
    add_place("kt", KT, True, date(2024, 1, 1))  # overdue
    add_place("bd", BD, False, None)
    add_place("hotline", None, True, date(2026, 1, 5), kind="hotline")
    add_place("demo", HT, True, date(2026, 1, 5), sample=True)  # demo data is not counted
    return compute(parse_period("2026-H1"), now=NOW)


def test_conversations_and_disclosures_by_month_and_channel(scenario):
    table = scenario.conversations
    assert table.rows == ["Tháng 1/2026", "Tháng 2/2026", "Tháng 3/2026", "Tháng 4/2026", "Tháng 5/2026", "Tháng 6/2026"]
    assert table.counts == [[3, 6, 0], [0, 0, 10], [7, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    shown = table.shown()
    assert shown[0] == ["", "Trang web", "Telegram", "Zalo", "Tổng"]
    # 3 is small; 6 hides with it (row), then 7 (web column), the telegram total (6), March's
    # total (7), January's (9) and the web total, so that no line has a single hidden cell.
    assert [row[1:] for row in shown[1:4]] == [["<5", "x", "0", "x"], ["0", "0", "10", "10"], ["x", "0", "0", "x"]]
    assert shown[-1] == ["Tổng", "x", "x", "10", "26"]
    assert scenario.disclosures.total() == 2
    assert scenario.partial


def test_referrals_by_kind_and_unit(scenario):
    table = scenario.referrals
    assert table.cols == [HT, KT, BD, "Không rõ địa bàn"]
    assert dict(zip(table.rows, table.counts)) == {
        "Công an": [6, 0, 0, 0], "Y tế": [0, 0, 0, 0], "Trợ giúp pháp lý": [0, 0, 0, 2],
        "Nơi tạm lánh": [0, 1, 0, 0], "Địa chỉ tin cậy": [0, 0, 0, 0], "Dịch vụ khác": [0, 0, 1, 0],
    }


def test_cases_help_given_never_reached_and_time_to_acknowledge(scenario):
    cases = scenario.cases
    assert (cases.decided, cases.helped, cases.never_reached, cases.in_progress) == (4, 3, 1, 2)
    assert sorted(cases.ack_minutes) == [1, 2, 4, 6, 10]  # urgent cases taken; not the contact request
    assert (cases.ack(50), cases.ack(90)) == ("4 phút", "10 phút")
    by_outcome = dict(zip(cases.table.rows, cases.table.counts))
    assert by_outcome["Chuyển công an"] == [1, 0, 0, 0]
    assert by_outcome["Không liên lạc được"] == [0, 1, 0, 0]
    assert by_outcome["Báo nhầm"] == [0, 0, 0, 1]
    assert by_outcome["Đang xử lý"] == [2, 0, 0, 0]
    assert cases.table.total() == 7


def test_directory_coverage(scenario):
    table = scenario.directory
    assert dict(zip(table.rows, table.counts)) == {
        HT: [1, 0, 0], KT: [1, 1, 0], BD: [0, 0, 1], "Toàn quốc (đường dây nóng)": [1, 0, 0]}


def test_one_unit(scenario):
    one = compute(parse_period("2026-H1"), HT, now=NOW)
    assert one.referrals.cols == [HT]
    assert one.referrals.total() == 6
    assert one.cases.table.total() == 4
    assert (one.cases.decided, one.cases.helped, one.cases.in_progress) == (2, 2, 2)
    assert one.conversations.total() == 26  # conversations have no unit: area-wide


def test_a_period_that_has_not_begun_is_refused(db_url):
    with pytest.raises(ReportError, match="has not begun"):
        compute(parse_period("2027"), now=NOW)


def test_random_activity_adds_up(db_url):
    totals = random_activity(seed=7)
    report = compute(parse_period("2026"), now=at("2026-12-31 12:00"))
    assert report.conversations.total() == totals[activity.CONVERSATION]
    assert report.disclosures.total() == totals[activity.DISCLOSURE]
    for column, channel in enumerate(indicators.CHANNELS):
        assert sum(row[column] for row in report.conversations.counts) == totals.get((activity.CONVERSATION, channel), 0)
    assert report.referrals.total() == sum(v for k, v in totals.items() if isinstance(k, str) and k.startswith("referral:"))


def test_answer_usefulness_by_channel_and_its_share(db_url):
    count("2026-01-05 09:00", "web", activity.USEFUL + "yes", 12)
    count("2026-02-05 09:00", "telegram", activity.USEFUL + "yes", 6)
    count("2026-03-05 09:00", "telegram", activity.USEFUL + "no", 6)
    count("2026-03-06 09:00", "zalo", activity.USEFUL + "maybe", 3)  # not an answer: ignored
    count("2026-07-05 09:00", "web", activity.USEFUL + "no", 9)  # after the period
    report = compute(parse_period("2026-H1"), HT, now=NOW)  # answers have no unit: area-wide
    assert report.usefulness.rows == ["Có", "Chưa"]
    assert report.usefulness.counts == [[12, 6, 0], [0, 6, 0]]
    assert report.useful_share() == "75%"


def test_answer_usefulness_share_is_withheld_for_small_numbers(db_url):
    count("2026-01-05 09:00", "zalo", activity.USEFUL + "yes", 9)
    count("2026-01-06 09:00", "zalo", activity.USEFUL + "no", 2)
    report = compute(parse_period("2026-H1"), now=NOW)
    assert report.useful_share() == "Không công bố (số nhỏ)"
    assert report.usefulness.shown()[1:] == [
        ["Có", "0", "0", "x", "x"], ["Chưa", "0", "0", "<5", "<5"], ["Tổng", "0", "0", "11", "11"]]
    assert compute(parse_period("2026-H2"), now=at("2026-08-01 00:00")).useful_share() == "Không có trường hợp"


# --- follow-ups, campaigns, quiz (indicators 10-12) ----------------------------------------------


def test_follow_up_answers_by_unit_combine_the_officer_and_the_resident(db_url):
    add_cases(
        CaseSpec("2026-01-10 08:00", HT, "referred_police", ack_minutes=2, follow_up="helped"),
        CaseSpec("2026-02-10 08:00", HT, "counselled", ack_minutes=2, follow_up="", resident="helped"),
        CaseSpec("2026-02-11 08:00", KT, "referred_shelter", ack_minutes=2, follow_up="", resident="not_helped"),
        CaseSpec("2026-03-10 08:00", BD, "referred_legal_aid", ack_minutes=2, follow_up="unreachable",
                 resident="helped"),  # the officer's answer counts
        CaseSpec("2026-04-10 08:00", HT, "referred_health", ack_minutes=2, follow_up=""),  # no answer yet
        CaseSpec("2026-04-11 08:00", KT, "counselled", ack_minutes=2),  # not referred: no follow-up
        CaseSpec("2025-12-10 08:00", HT, "referred_police", ack_minutes=2, follow_up="helped"),  # before the period
    )
    report = compute(parse_period("2026-H1"), now=NOW)
    table = report.follow_ups
    assert table.rows == ["Đã được giúp đỡ", "Chưa được giúp đỡ", "Không liên lạc được", "Chưa có câu trả lời"]
    assert table.cols == [HT, KT, BD, "Không rõ địa bàn"]
    assert table.counts == [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]]
    assert table.shown()[-1] == ["Tổng", "<5", "<5", "<5", "0", "5"]
    by_stats = dict(stats.summary(*parse_period("2026-H1").bounds()).by["follow_up"])  # the console's figures
    assert by_stats == {"helped": 2, "not_helped": 1, "unreachable": 1, "pending": 1}
    one = compute(parse_period("2026-H1"), HT, now=NOW).follow_ups
    assert (one.cols, one.counts) == ([HT], [[2], [0], [0], [1]])


def test_campaign_reach_by_channel_for_campaigns_sent_in_the_period(db_url):
    add_campaign(1, "2026-02-01 08:00", "2026-01-20 08:00", taps=7, deliveries={
        ("telegram", "sent"): 20, ("zalo", "sent"): 8, ("telegram", "failed"): 2, ("zalo", "stopped"): 1,
        ("telegram", "unknown"): 1})
    add_campaign(2, None, "2026-03-01 08:00", taps=3, deliveries={("zalo", "sent"): 5})  # sent when made
    add_campaign(3, "2026-07-01 08:00", "2026-05-01 08:00", taps=9, deliveries={("telegram", "sent"): 10})  # later
    add_campaign(4, "2026-03-01 08:00", "2026-02-01 08:00")  # never sent
    campaigns = compute(parse_period("2026-H1"), KT, now=NOW).campaigns  # no unit: area-wide
    assert campaigns.table.rows == ["Đã gửi", "Gửi không được", "Không gửi (người nhận đã hủy đăng ký)",
                                    "Chưa gửi xong hoặc không rõ"]
    assert campaigns.table.counts == [[0, 20, 13], [0, 2, 0], [0, 0, 1], [0, 1, 0]]
    assert (campaigns.sent, campaigns.taps, campaigns.table.total()) == (2, 10, 37)
    assert campaigns.table.shown()[1:] == [
        ["Đã gửi", "0", "x", "x", "33"], ["Gửi không được", "0", "<5", "0", "<5"],
        ["Không gửi (người nhận đã hủy đăng ký)", "0", "0", "<5", "<5"], ["Chưa gửi xong hoặc không rõ", "0", "<5", "0", "<5"],
        ["Tổng", "0", "23", "14", "37"]]  # 13 hides with the zalo 1, then 20 in its row: the totals stay


def test_quiz_participation_and_mean_score_of_residents(db_url):
    assert len(quizzes()["hieu_luat"].questions) == 5
    add_attempt("hieu_luat", "s0", "2025-12-31 20:00", "2026-01-01 10:00", 5)  # finished in the period
    add_attempt("hieu_luat", "s1", "2026-01-10 08:00", "2026-01-10 08:10", 5, code="AAAA1111")
    add_attempt("hieu_luat", "s2", "2026-02-10 08:00", "2026-02-11 08:00", 3)
    add_attempt("hieu_luat", "s3", "2026-03-10 08:00")  # not finished
    add_attempt("hieu_luat", "s4", "2026-04-10 08:00", "2026-04-10 08:05", 4, code="BBBB2222")
    add_attempt("hieu_luat", "s5", "2026-05-10 08:00", "2026-05-10 08:05", 2)
    add_attempt("hieu_luat", "s6", "2026-05-11 08:00", "2026-05-11 08:05", 1)
    add_attempt("hieu_luat", "s7", "2026-06-11 08:00", "2026-06-11 08:05", 5)  # after "now"
    add_attempt("can_bo_tiep_nhan", "s1", "2026-01-10 08:00", "2026-01-10 08:10", 3)  # officers' training
    quiz = compute(parse_period("2026-H1"), now=NOW).quiz
    assert quiz.table.cols == ["Hiểu luật phòng, chống bạo lực gia đình"]
    assert quiz.table.counts == [[6], [6], [2]]
    assert (quiz.correct, quiz.asked, quiz.mean()) == (20, 30, "67%")  # 20 right answers of 6 × 5
    assert quiz.table.shown()[3] == ["Hoàn thành, có mã dự thi", "<5", "<5"]
    early = compute(parse_period("2026-H1"), now=at("2026-02-15 00:00")).quiz
    assert (early.table.counts, early.mean()) == ([[2], [3], [1]], "Không công bố (số nhỏ)")
    assert compute(parse_period("2026-H2"), now=at("2026-08-01 00:00")).quiz.mean() == "Không có trường hợp"
