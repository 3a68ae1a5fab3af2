"""The demo district's own work-plan speech, imported as a 督办事项 (its tree of tasks 待交办), and a
督查员 account.

The speech is written for the demo in the style of a district head's speech at a work conference: five parts
(``一、`` … ``五、``), each enumerating its tasks with ``一要…`` or ``一是…``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.models import Directive, User
from civicgrid.org.roles import Principal
from civicgrid.org.service import create_user

SUPERVISOR = ("ducha", "孙督查")
TITLE = "在全区2026年工作推进会上的讲话"

SPEECH = """在全区2026年工作推进会上的讲话
区长  王明远
（2026年2月16日）
同志们：
刚才，区发改委通报了去年重点工作完成情况，几个街道和部门作了交流发言，讲得都很实在。下面，我就抓好今年的工作讲五点意见。
一、聚焦项目攻坚，扩大有效投资
项目是发展的硬支撑。今年要围绕“招商、落地、投产”三个环节下功夫：一要抓好招商信息汇报。各街道、各部门每月报送在谈项目，区投促中心建立全区招商线索台账，做到一条线索一名责任人。二要抓好集中会办。每月召开一次重点项目集中会办会，对土地征收、规划调整、资金、手续等问题当场明确牵头单位和办结时限。三要抓好区领导挂钩联系。每名区领导挂钩联系不少于两个重点项目，每季度到现场办公一次。
二、聚焦精细治理，提升城市品质
城市管理要从“管得住”向“管得好”转变。一是做实网格化管理。年内完成全区网格优化调整，网格员巡查发现问题按期处置率达到百分之九十五以上。二是整治背街小巷。上半年完成五十条背街小巷环境提升。三是规范占道经营和共享单车停放，建成一批示范街区。
三、聚焦生态环境，守护碧水蓝天
生态环境是最普惠的民生福祉。一要打好蓝天保卫战。严格落实扬尘管控“六个百分之百”，PM2.5平均浓度持续下降。二要落实河长制湖长制。各级河长按时巡河，一河一策问题清单按期销号。三要加强污染源监管。重点排污单位全部接入在线监测，超标报警两小时内处置。
四、聚焦民生实事，增进群众福祉
民生无小事。一是推进城乡一体化供水。年底前完成老旧供水管网改造三十公里，农村地区供水保证率达到百分之九十八。二是建设污水处理设施。新建污水处理站四座，完成雨污分流改造小区二十个。三是改造老旧小区。全年改造老旧小区十二个，同步推进加装电梯和停车设施建设。四是办好12345热线。群众诉求按期办结率、满意率均达到百分之九十以上。
五、聚焦作风建设，狠抓工作落实
一分部署，九分落实。一要压实责任。区政府督查室将今天部署的任务逐项分解，明确牵头单位、配合单位、责任领导和办结时限。二要强化督办。实行红黄绿灯管理，对黄灯事项及时催办，对红灯事项挂牌督办。三要严格考核。每月印发督查通报，按期办结情况纳入年度绩效考核。
同志们，新的一年任务艰巨、使命光荣，让我们以只争朝夕的精神抓落实、见实效，确保全年目标任务圆满完成！
谢谢大家！
"""


def import_speech(session: Session) -> int:
    """Import the speech (once) and make the 督查员 account; returns the number of tasks."""
    from civicgrid.demo.people import DEMO_PASSWORD
    from civicgrid.org.auth import principal_of
    from civicgrid.supervision.service import DirectiveIn, import_directive

    if session.scalar(select(Directive.id).where(Directive.title == TITLE)) is not None:
        return 0
    user = session.scalar(select(User).where(User.username == SUPERVISOR[0]))
    if user is None:
        user = create_user(session, SUPERVISOR[0], DEMO_PASSWORD, ["supervisor"], display_name=SUPERVISOR[1])
        session.flush()
    actor: Principal = principal_of(user)
    meta = DirectiveIn(TITLE, "讲话", "王明远区长", date(2026, 2, 16))
    _, tasks = import_directive(session, meta, SPEECH, actor, now=datetime.now(UTC))
    return len(tasks)
