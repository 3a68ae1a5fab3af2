"""A document's text → the exact task tree (SPEC §13): GB/T 9704 levels, speech enumerations, what is not
a task."""

from __future__ import annotations

import io
from typing import Any

import docx

from civicgrid.supervision import outline


def shape(nodes: list[outline.Node]) -> list[Any]:
    return [(n.number, n.title, n.body, shape(n.children)) for n in nodes]


NOTICE = """关于印发2026年全区重点工作任务分解方案的通知
区各部门，各街道办事处：
现将《2026年全区重点工作任务分解方案》印发给你们，请认真贯彻落实。
一、抓好项目建设。全年新开工项目30个。
（一）加快前期工作，落实要素保障。各牵头单位要倒排工期。
1.完成用地报批。3.5亿元资金年内到位。
2.完成规划调整
（1）编制控规修改方案；
（2）报市政府批准
（二）强化督查考核。
二、改善民生
XX区人民政府办公室
2026年1月5日
"""


def test_gbt_9704_levels_make_the_exact_tree() -> None:
    assert shape(outline.parse(NOTICE)) == [
        (
            "一、",
            "抓好项目建设",
            "全年新开工项目30个。",
            [
                (
                    "（一）",
                    "加快前期工作，落实要素保障",
                    "各牵头单位要倒排工期。",
                    [
                        ("1.", "完成用地报批", "3.5亿元资金年内到位。", []),
                        (
                            "2.",
                            "完成规划调整",
                            "",
                            [("（1）", "编制控规修改方案；", "", []), ("（2）", "报市政府批准", "", [])],
                        ),
                    ],
                ),
                ("（二）", "强化督查考核", "", []),
            ],
        ),
        ("二、", "改善民生", "", []),
    ]


SPEECH = """在全区2026年工作推进会上的讲话
区长  王明
（2026年2月10日）
同志们：
刚才，几个部门作了交流发言，讲得很好。过去一年，我们取得了很大成绩：一是经济稳中有进。二是民生持续改善。
一、聚焦项目攻坚，扩大有效投资
项目是发展的生命线。今年要重点抓好三件事：一要抓招商引资。全年引进亿元以上项目20个。二要抓集中会办，每月召开一次会办会，及时解决土地、规划、资金问题。三要抓区领导挂钩联系。
二、聚焦民生实事
一是推进城乡一体化供水。年底前完成老旧管网改造50公里。
二是建设污水处理设施。
同志们，新的一年任务艰巨，让我们奋发有为，确保各项目标任务圆满完成！
谢谢大家！
"""


def test_speech_enumerations_nest_under_their_part_and_the_opening_is_no_task() -> None:
    assert shape(outline.parse(SPEECH)) == [
        (
            "一、",
            "聚焦项目攻坚，扩大有效投资",
            "项目是发展的生命线。今年要重点抓好三件事：",
            [
                ("一要", "抓招商引资", "全年引进亿元以上项目20个。", []),
                ("二要", "抓集中会办，每月召开一次会办会，及时解决土地、规划、资金问题", "", []),
                ("三要", "抓区领导挂钩联系", "", []),
            ],
        ),
        (
            "二、",
            "聚焦民生实事",
            "",
            [
                ("一是", "推进城乡一体化供水", "年底前完成老旧管网改造50公里。", []),
                ("二是", "建设污水处理设施", "", []),
            ],
        ),
    ]


DIRECTIVE = """关于加强河道保洁工作的批示
第一，要压实河长责任。各街道河长每月巡河不少于两次。第二，要加强日常保洁。做到：一是水面无漂浮物。二是岸坡无垃圾。第三,建立考核通报机制
"""


def test_first_second_enumerations_with_nested_yi_shi_and_half_width_punctuation() -> None:
    assert shape(outline.parse(DIRECTIVE)) == [
        ("第一", "要压实河长责任", "各街道河长每月巡河不少于两次。", []),
        (
            "第二",
            "要加强日常保洁",
            "做到：",
            [("一是", "水面无漂浮物", "", []), ("二是", "岸坡无垃圾", "", [])],
        ),
        ("第三", "建立考核通报机制", "", []),
    ]


def test_enumerations_only_in_sequence_and_at_a_sentence_start() -> None:
    text = (
        "一、做好防汛工作。\n二是要说的话放在句中，不是任务。二是这里也不成序列。\n各单位要一是一、二是二。"
    )
    assert shape(outline.parse(text)) == [
        (
            "一、",
            "做好防汛工作",
            "二是要说的话放在句中，不是任务。二是这里也不成序列。\n各单位要一是一、二是二。",
            [],
        )
    ]


def test_half_width_brackets_and_full_width_dot() -> None:
    text = "一、总体要求\n(一)加强领导。成立专班\n1．明确分工\n(1)制定方案"
    tree = outline.parse(text)
    assert shape(tree) == [
        (
            "一、",
            "总体要求",
            "",
            [("(一)", "加强领导", "成立专班", [("1．", "明确分工", "", [("(1)", "制定方案", "", [])])])],
        )
    ]
    assert outline.count(tree) == 4


def test_json_shape() -> None:
    (node,) = outline.parse("一、抓落实。要见实效。")
    assert node.as_json() == {"number": "一、", "title": "抓落实", "body": "要见实效。", "children": []}


def test_docx_paragraphs() -> None:
    document = docx.Document()
    for line in (
        "关于做好安全生产的通知",
        "各街道：",
        "一、开展隐患排查。全面排查。",
        "二、强化应急值守",
        "区安委办",
    ):
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    assert shape(outline.parse_docx(buf.getvalue())) == [
        ("一、", "开展隐患排查", "全面排查。", []),
        ("二、", "强化应急值守", "", []),
    ]


def test_numbers() -> None:
    assert [outline.cn_number(x) for x in ("一", "十", "十二", "二十", "九十九", "12")] == [
        1,
        10,
        12,
        20,
        99,
        12,
    ]
