"""The kinds of document the demo files per category: titles, wording and handling, as a developer writes them.

Text is a template over the values of `data.document_values` (customer, unit, amounts, numbers, dates).
The order within a category matters: a small demo takes the first kinds, so the first two of each
category already give every level (XS: a B approval, ZL: an A base-price approval).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.enums import Category, Level

# When a document is dated, relative to the unit's story (see data.unit_anchor).
SALE, MOVE_IN, CERTIFICATE, SERVICE, LEASE, CASE = "sale", "move_in", "certificate", "service", "lease", "case"
# Where a document is filed: the unit's dossier or the litigation file kept apart (5.5.2).
UNIT, LITIGATION = "unit", "litigation"


@dataclass(frozen=True)
class Kind:
    title: str
    party: str  # 责任者, a template
    body: tuple[str, ...]
    anchor: str
    days: int = 0  # offset from the anchor date
    level: Level = Level.C
    number: str = ""  # 文号, a template
    pages: tuple[tuple[str, ...], ...] = ()  # the further pages of a multi-page document
    signature: tuple[str, str] | None = None  # the two signing parties, templates
    paper: bool = False  # a paper original kept in the archive room (the file is its scan)
    original: bool = True  # 原件; False for a copy (复印件)
    scan: bool = False  # filed as a JPEG scan rather than a PDF
    department: str = ""  # when not the category's handing-over department
    scope: tuple[str, ...] = ()  # 知悉范围: departments beyond the document's own
    filed_in: str = UNIT
    remarks: str = ""


# The departments that hand each category over (DOMAIN.md).
CATEGORY_DEPARTMENT = {
    Category.XS: "SALES", Category.QY: "CA", Category.BZ: "CA", Category.RH: "CA", Category.WX: "CSC",
    Category.PF: "CSC", Category.SS: "LEGAL", Category.ZL: "COM", Category.QT: "CA",
}

SALES_CONTRACT_TERMS = (
    ("第五条  买受人逾期付款的，按日向出卖人支付逾期应付款万分之五的违约金；逾期超过六十日的，出卖人有权解除合同。",
     "第六条  出卖人交付的房屋应符合本合同附件所列装修标准，并取得建设工程竣工验收备案证明。",
     "第七条  房屋交付之日起，毁损、灭失的风险由买受人承担。",
     "第八条  出卖人应在房屋交付之日起三百六十五日内，协助买受人办理不动产权证书。",
     "第九条  屋面防水工程保修期为五年，电气管线、给排水管道保修期为两年。"),
    ("第十条  本合同履行中发生争议，双方协商解决；协商不成的，依法向房屋所在地人民法院起诉。",
     "第十一条  本合同附件与本合同具有同等法律效力。本合同一式四份，双方各执一份，备案机关及贷款银行各一份。",
     "第十二条  本合同自双方签字（盖章）之日起生效。"),
)

KINDS: dict[Category, tuple[Kind, ...]] = {
    Category.XS: (
        Kind("认购书", "{developer}", (
            "出卖人：{developer}",
            "买受人：{customer}（证件号码：{id_number}，联系电话：{phone}）",
            "买受人自愿认购{project}{unit}，建筑面积约{area}平方米，单价为人民币{unit_price}元/平方米，"
            "总价款为人民币{price}元。",
            "买受人于签署本认购书时向出卖人支付定金人民币{deposit}元。买受人应于{contract_deadline}前与出卖人签订"
            "《深圳市房地产买卖合同》，逾期未签订的，出卖人有权另行出售该房屋。",
            "本认购书一式两份，双方各执一份，自双方签字盖章之日起生效。",
        ), SALE, number="RG-{sale_year}-{serial}", signature=("{developer}", "{customer}"), paper=True),
        Kind("优惠折扣审批表", "{developer}营销中心", (
            "申请事项：{customer}认购{unit}，申请在表价基础上给予{discount}折优惠。",
            "表价总价：人民币{list_price}元；优惠后总价：人民币{price}元；优惠金额：人民币{discount_amount}元。",
            "申请理由：老业主推荐购房，首期款比例百分之五十。",
            "审批意见：同意。销售经理{sales_agent}、营销总监已签批。",
        ), SALE, days=-2, level=Level.B, number="YH-{sale_year}-{serial}", scope=("FIN",)),
        Kind("排号协议", "{developer}", (
            "{customer}自愿参加{project}{building}意向登记，排号序号为第{queue_no}号，并交纳意向金人民币{intent}元。",
            "排号不代表房号确定，开盘当日按排号顺序选房；选房后意向金自动转为认购定金。",
            "若意向客户放弃选房，意向金于七个工作日内无息退还。",
        ), SALE, days=-21, number="PH-{sale_year}-{queue_no}"),
        Kind("身份证复印件", "{customer}", (
            "姓名  {customer}",
            "公民身份号码  {id_number}",
            "与原件核对无误  经办人：{sales_agent}",
            "仅供{project}{unit}认购使用，他用无效",
        ), SALE, paper=True, original=False, scan=True),
        Kind("一房一价销售价格审批表", "{developer}", (
            "审批对象：{project}{unit}，建筑面积{area}平方米。",
            "备案单价上限：人民币{cap_price}元/平方米；审批表价：人民币{unit_price}元/平方米；"
            "审批底价：人民币{floor_price}元/平方米。",
            "本表所列底价为核心商业秘密，仅限知悉范围内人员知悉，不得对外披露。",
            "审批：营销总监、财务总监、总经理。",
        ), SALE, days=-30, level=Level.A, number="JG-{sale_year}-{serial}", scope=("FIN",)),
        Kind("换房申请审批表", "{developer}营销中心", (
            "{customer}原认购{project}{other_unit}，因家庭原因申请换至{unit}，差价人民币{difference}元由买受人补足。",
            "原认购书作废，已付定金转入新认购书。",
            "审批意见：同意换房，差价于签约时一并结清。",
        ), SALE, days=3, level=Level.B, number="HF-{sale_year}-{serial}"),
        Kind("延期付款审批表", "{developer}营销中心", (
            "{customer}购买{unit}，总价人民币{price}元，首期款人民币{down_payment}元原定于{contract_deadline}前付清。",
            "因买受人资金周转原因，申请延期三十日支付，并承诺按日万分之五支付延期违约金。",
            "审批意见：同意延期三十日。",
        ), SALE, days=10, level=Level.B, number="YQ-{sale_year}-{serial}"),
        Kind("房号销售记录表", "{developer}营销中心", (
            "房号：{unit}；用途：{use}；建筑面积：{area}平方米。",
            "{sale_date}  认购  买受人：{customer}  认购书编号：RG-{sale_year}-{serial}",
            "{contract_date}  签约  合同编号：{contract_no}",
            "销售状态：已售。",
        ), SALE, days=8),
    ),
    Category.QY: (
        Kind("房地产买卖合同", "{developer}", (
            "出卖人：{developer}",
            "买受人：{customer}  证件号码：{id_number}",
            "第一条  买受人购买的房地产为{project}{unit}，用途为{use}，建筑面积{area}平方米，"
            "套内建筑面积{inner_area}平方米。",
            "第二条  该房地产总价款为人民币{price}元（按建筑面积计，单价人民币{unit_price}元/平方米）。",
            "第三条  买受人采用按揭方式付款，首期款人民币{down_payment}元已于签约当日付清，"
            "余款人民币{loan}元以银行按揭贷款支付。",
            "第四条  出卖人应于2021年12月31日前将该房地产交付买受人。逾期交付的，出卖人按日向买受人支付"
            "已付房价款万分之一的违约金。",
        ), SALE, days=7, number="{contract_no}", pages=SALES_CONTRACT_TERMS,
            signature=("{developer}", "{customer}"), paper=True),
        Kind("补充协议", "{developer}", (
            "甲方（出卖人）：{developer}",
            "乙方（买受人）：{customer}",
            "双方就{unit}房地产买卖合同（合同编号：{contract_no}）补充约定如下：",
            "一、交付标准以本协议附件《装修标准》为准，乙方已知悉并认可。",
            "二、该房屋附送的入户花园面积不计入产权面积，乙方不得以此主张面积差价。",
            "三、本协议与主合同具有同等法律效力，主合同与本协议不一致之处以本协议为准。",
        ), SALE, days=7, number="{contract_no}-BC1", signature=("{developer}", "{customer}"), paper=True),
        Kind("按揭合同", "{bank}", (
            "借款人：{customer}",
            "贷款人：{bank}",
            "保证人：{developer}（阶段性保证）",
            "借款用途：购买{project}{unit}；借款金额人民币{loan}元，期限{term}年，"
            "年利率按贷款市场报价利率加{basis_points}个基点执行。",
            "还款方式：等额本息，每月{pay_day}日为还款日。",
        ), SALE, days=30, number="AJ-{sale_year}-{serial}", pages=((
            "第五条  借款人以所购房产设定抵押，抵押登记办妥前由保证人承担阶段性连带保证责任。",
            "第六条  借款人提前还款的，应提前三十日书面申请，经贷款人同意后办理。",
            "第七条  借款人连续三期未按时还款的，贷款人有权宣布贷款提前到期。",
        ),), signature=("{bank}", "{customer}"), paper=True),
        Kind("网签备案回执", "深圳市规划和自然资源局", (
            "合同编号：{contract_no}",
            "备案号：BA{sale_year}{serial}0{pay_day}",
            "房屋坐落：{address}{project}{unit}",
            "买受人：{customer}",
            "备案日期：{date}",
        ), SALE, days=9),
        Kind("付款方式变更协议", "{developer}", (
            "甲方：{developer}    乙方：{customer}",
            "乙方原约定以按揭方式支付{unit}房款，现因贷款审批原因变更为一次性付款。",
            "乙方应于{contract_deadline}前付清余款人民币{loan}元，原按揭合同相关约定不再履行。",
        ), SALE, days=45, number="{contract_no}-BG1", signature=("{developer}", "{customer}")),
    ),
    Category.BZ: (
        Kind("不动产权证书（复印件）", "深圳市不动产登记中心", (
            "权利人：{customer}",
            "共有情况：单独所有",
            "坐落：{address}{project}{unit}",
            "不动产权证号：粤（2022）深圳市不动产权第{certificate_no}号",
            "用途：{use}；面积：建筑面积{area}平方米",
        ), CERTIFICATE, paper=True, original=False),
        Kind("办证资料交接单", "{developer}客户事务组", (
            "兹收到{customer}提交的以下办证资料：身份证复印件一份、户口簿复印件一份、婚姻状况证明一份、完税证明一份。",
            "办理事项：{unit}不动产权证书转移登记。",
            "经办人：{ca_agent}    收件日期：{date}",
        ), CERTIFICATE, days=-40),
        Kind("契税完税证明", "国家税务总局深圳市南山区税务局", (
            "纳税人名称：{customer}",
            "税种：契税；计税依据：人民币{price}元；税率：百分之一点五；实缴金额：人民币{deed_tax}元。",
            "房屋坐落：{project}{unit}",
        ), CERTIFICATE, days=-30, number="SW{sale_year}{serial}"),
        Kind("房产证领取签收单", "{developer}客户事务组", (
            "本人{customer}已于{date}领取{unit}不动产权证书原件一本"
            "（粤（2022）深圳市不动产权第{certificate_no}号），核对无误。",
            "领取人签字：{customer}    经办人：{ca_agent}",
        ), CERTIFICATE, days=12, paper=True),
        Kind("证件邮寄凭证", "{developer}客户事务组", (
            "收件人：{customer}    电话：{phone}",
            "寄件内容：不动产权证书及契税发票",
            "快递单号：SF{tracking}",
            "寄件日期：{date}",
        ), CERTIFICATE, days=5),
    ),
    Category.RH: (
        Kind("入伙通知书", "{developer}", (
            "尊敬的{customer}：",
            "您购买的{project}{unit}已具备交付条件并完成竣工验收备案。请于{move_in_date}至{move_in_end}期间"
            "到丽景苑入伙中心办理入伙手续。",
            "办理时请携带：购房合同原件、身份证原件、本通知书及购房款结清证明。",
            "逾期未办理的，视为该房屋已于通知期满之日交付。",
        ), MOVE_IN, days=-30, number="RH-2021-{serial}"),
        Kind("入伙通知书签收单", "{developer}", (
            "签收人：{customer}",
            "送达方式：邮政特快专递并短信通知（{phone}）",
            "邮件号：EA{tracking}CN",
            "签收日期：{date}",
        ), MOVE_IN, days=-25, paper=True),
        Kind("交房结算单", "{developer}", (
            "房号：{unit}；合同面积{area}平方米，实测面积{measured_area}平方米，面积差{area_difference}平方米。",
            "面积差价款：人民币{area_money}元；首年物业管理费：人民币{management_fee}元；装修押金：人民币{renovation_deposit}元。",
            "合计应收：人民币{settlement_total}元，已于{date}结清。",
            "业主签字：{customer}    经办人：{ca_agent}",
        ), MOVE_IN, number="JS-2021-{serial}", paper=True),
        Kind("入伙协议", "{manager}", (
            "甲方：{manager}",
            "乙方：{customer}（{unit}业主）",
            "一、乙方自收楼之日起按每月每平方米人民币{fee_rate}元交纳物业管理费。",
            "二、乙方装修前应向甲方申报并交纳装修押金，装修完毕验收合格后无息退还。",
            "三、乙方遵守《丽景苑管理规约》，不得擅自改变房屋结构和外立面。",
        ), MOVE_IN, signature=("{manager}", "{customer}")),
        Kind("钥匙移交确认书", "{manager}", (
            "{customer}已于{date}领取{unit}钥匙：入户门钥匙三把，信报箱钥匙两把，门禁卡两张。",
            "水表读数{water_meter}，电表读数{power_meter}，燃气表读数{gas_meter}。",
            "业主签字：{customer}",
        ), MOVE_IN, days=1),
    ),
    Category.WX: (
        Kind("维修工单", "{manager}", (
            "报修人：{customer}    联系电话：{phone}",
            "报修地址：{project}{unit}",
            "报修内容：{issue}",
            "处理情况：维修人员于当日上门查看，{fix}，业主验收合格。",
            "维修费用：保修期内，免费。",
        ), SERVICE, number="{repair_no}"),
        Kind("保修期维修记录", "{manager}", (
            "房号：{unit}；交付日期：{move_in_date}；保修期：防水工程五年，其他两年。",
            "{date}  {issue}——已修复（工单{repair_no}）",
            "回访：三日后电话回访，业主满意。",
        ), SERVICE),
        Kind("维修验收确认单", "{manager}", (
            "维修项目：{issue}",
            "施工单位：深圳市安居建筑修缮工程有限公司",
            "验收结论：合格。    业主签字：{customer}",
        ), SERVICE, days=3, paper=True),
        Kind("维修费用结算单", "{manager}", (
            "维修项目：{issue}（工单{repair_no}）",
            "费用合计：人民币{repair_cost}元，由施工总包单位在质量保证金中承担。",
        ), SERVICE, days=10, number="{repair_no}-JS"),
        Kind("维修回访记录", "{manager}", (
            "回访对象：{customer}（{phone}）",
            "回访方式：电话",
            "业主评价：满意；意见：希望缩短维修响应时间。",
        ), SERVICE, days=5),
    ),
    Category.PF: (
        Kind("赔付申请书", "{customer}", (
            "申请人：{customer}，系{project}{unit}业主。",
            "因楼上住户卫生间防水层破损，本户客厅天花板及木地板浸水损坏，现申请赔付维修费用及财产损失。",
            "申请金额：人民币{claim}元。附：现场照片六张、维修报价单一份。",
        ), SERVICE, days=-20),
        Kind("赔付协议书", "{developer}", (
            "甲方：{developer}",
            "乙方：{customer}",
            "因{unit}渗水导致乙方财产损失，经双方友好协商，甲方一次性赔付乙方人民币{settlement}元。",
            "乙方收到上述款项后，不再就本事项向甲方提出任何其他主张。",
            "本协议内容双方均负有保密义务。",
        ), SERVICE, level=Level.B, number="PF-{service_year}-{serial}", signature=("{developer}", "{customer}"),
            paper=True, scope=("LEGAL", "FIN")),
        Kind("客户约谈记录", "{developer}客户服务中心", (
            "约谈时间：{date}；地点：丽景苑客户服务中心会客室。",
            "参加人：{customer}（业主）、{csc_agent}（客服主管）。",
            "业主诉求：赔偿地板更换费用及租住酒店费用。",
            "处理意见：报公司审批后三个工作日内答复。",
        ), SERVICE, days=-14),
        Kind("赔付审批表", "{developer}客户服务中心", (
            "申请赔付金额：人民币{claim}元；核定赔付金额：人民币{settlement}元。",
            "审批意见：客户服务中心经理同意；法律室意见：可以协议方式解决；财务管理部：同意支付。",
        ), SERVICE, days=-5, level=Level.B, scope=("FIN",)),
        Kind("赔付款收据", "{customer}", (
            "今收到{developer}支付的{unit}渗水事件赔付款人民币{settlement}元。",
            "收款人：{customer}    收款方式：银行转账",
        ), SERVICE, days=7),
    ),
    Category.SS: (
        Kind("民事判决书", "{court}", (
            "{case_no}",
            "原告：{customer}，住深圳市南山区{project}{unit}。",
            "被告：{developer}，住所地深圳市南山区。",
            "原告{customer}与被告{developer}商品房销售合同纠纷一案，本院于2023年3月6日立案后，"
            "依法适用简易程序，公开开庭进行了审理。本案现已审理终结。",
            "原告诉称：被告交付的房屋存在外墙渗漏等质量问题，请求判令被告赔偿维修费用及损失共计人民币{case_claim}元。",
        ), CASE, days=120, number="{case_no}", pages=((
            "本院认为：原告与被告签订的房地产买卖合同合法有效。经鉴定，涉案房屋外墙渗漏系施工质量原因所致，"
            "被告应承担修复及赔偿责任。原告主张的租金损失证据不足，本院不予支持。",
            "判决如下：",
            "一、被告于本判决生效之日起十日内向原告支付维修费用及损失人民币{case_award}元；",
            "二、驳回原告的其他诉讼请求。",
            "案件受理费人民币{case_fee}元，由原告、被告各负担一半。",
            "如不服本判决，可在判决书送达之日起十五日内向本院递交上诉状。",
        ),), paper=True, filed_in=LITIGATION),
        Kind("民事判决书（复印件）", "{court}", (
            "{case_no}",
            "原告：{customer}    被告：{developer}",
            "判决如下：一、被告于本判决生效之日起十日内向原告支付维修费用及损失人民币{case_award}元；"
            "二、驳回原告的其他诉讼请求。",
            "本复印件与原件核对无误。",
        ), CASE, days=150, number="{case_no}", original=False, remarks="结案文书复印件，原件存于本户诉讼案卷。"),
        Kind("诉讼策略备忘录", "{developer}法律室", (
            "案由：{customer}诉{developer}商品房销售合同纠纷，案号{case_no}。",
            "风险评估：外墙渗漏经鉴定属实，败诉可能性较大，预计判赔金额在人民币{case_low}元至{case_high}元之间。",
            "策略建议：争取调解结案，调解上限人民币{case_cap}元；同步排查3栋同类问题，防止群体诉讼。",
            "本备忘录为核心商业秘密，仅限法律室及总经理办公室知悉。",
        ), CASE, days=20, level=Level.A, scope=("GMO",), filed_in=LITIGATION),
        Kind("民事起诉状（副本）", "{customer}", (
            "原告：{customer}，联系电话：{phone}",
            "被告：{developer}",
            "诉讼请求：一、判令被告赔偿房屋维修费用及损失共计人民币{case_claim}元；二、本案诉讼费由被告承担。",
            "事实与理由：原告购买被告开发的{project}{unit}，入住后发现外墙窗边多处渗漏，多次报修未能根治。",
            "此致  {court}",
        ), CASE, days=-10, original=False, filed_in=LITIGATION),
        Kind("应诉通知书", "{court}", (
            "{developer}：",
            "本院已受理原告{customer}诉你方商品房销售合同纠纷一案，案号{case_no}，现将起诉状副本送达你方。",
            "请于收到本通知之日起十五日内提交答辩状，并于2023年5月16日上午9时到本院第六法庭参加庭审。",
        ), CASE, days=8, number="{case_no}", filed_in=LITIGATION),
        Kind("举证通知书", "{court}", (
            "{developer}：",
            "根据《最高人民法院关于民事诉讼证据的若干规定》，你方应于2023年4月20日前向本院提交证据。",
            "逾期提交的，应当说明理由；拒不说明理由或者理由不成立的，本院将依法处理。",
        ), CASE, days=8, number="{case_no}", filed_in=LITIGATION),
        Kind("传票", "{court}", (
            "被传唤人：{developer}",
            "案由：商品房销售合同纠纷，案号{case_no}",
            "应到时间：2023年5月16日上午9时；应到处所：本院第六法庭。",
            "注意事项：被传唤人无正当理由拒不到庭的，可以缺席判决。",
        ), CASE, days=8, number="{case_no}", filed_in=LITIGATION),
        Kind("送达回证", "{court}", (
            "送达文书：起诉状副本、应诉通知书、举证通知书、传票",
            "受送达人：{developer}",
            "签收人：{legal_agent}（法律室）    签收日期：{date}",
        ), CASE, days=10, number="{case_no}", paper=True, filed_in=LITIGATION),
        Kind("民事答辩状", "{developer}", (
            "答辩人：{developer}",
            "被答辩人：{customer}",
            "答辩意见：答辩人已按合同约定交付房屋，并在保修期内多次履行维修义务；原告主张的租金损失缺乏事实依据，"
            "请求法院依法驳回原告的不当诉讼请求。",
        ), CASE, days=20, filed_in=LITIGATION),
        Kind("授权委托书（诉讼代理）", "{developer}", (
            "委托人：{developer}",
            "受托人：{legal_agent}，本公司法律室职员；陈启明，广东南粤明信律师事务所律师。",
            "代理事项：{case_no}一审诉讼，代理权限为特别授权。",
        ), CASE, days=18, paper=True, filed_in=LITIGATION),
        Kind("诉讼代理合同", "{developer}法律室", (
            "委托方：{developer}    受托方：广东南粤明信律师事务所",
            "委托事项：代理{case_no}商品房销售合同纠纷一审。",
            "律师费：人民币{case_lawyer_fee}元，签约后支付百分之六十，结案后支付余款。",
        ), CASE, days=16, level=Level.B, number="FL-2023-{serial}", scope=("FIN",), filed_in=LITIGATION),
        Kind("诉讼费用审批表", "{developer}法律室", (
            "案件：{case_no}",
            "申请事项：支付律师费人民币{case_lawyer_fee}元、鉴定费人民币{case_survey_fee}元。",
            "审批意见：法律室负责人同意；财务管理部同意；总经理办公室已阅。",
        ), CASE, days=12, level=Level.B, scope=("FIN",), filed_in=LITIGATION),
        Kind("案件风险评估报告", "{developer}法律室", (
            "案件：{customer}诉{developer}，案号{case_no}",
            "争议焦点：渗漏是否属于施工质量问题；租金损失是否应予赔偿。",
            "评估结论：质量问题成立的可能性较高；建议委托鉴定，同时准备调解方案。",
        ), CASE, days=25, level=Level.B, filed_in=LITIGATION),
        Kind("证据清单", "{developer}法律室", (
            "证据一：房地产买卖合同（{contract_no}），证明双方买卖关系。",
            "证据二：交房结算单及钥匙移交确认书，证明房屋已按约交付。",
            "证据三：维修工单及回访记录，证明被告已积极履行保修义务。",
        ), CASE, days=30, filed_in=LITIGATION),
        Kind("鉴定费收据", "深圳市鹏诚建设工程司法鉴定所", (
            "今收到{developer}交来{case_no}房屋渗漏原因鉴定费人民币{case_survey_fee}元。",
            "收款单位：深圳市鹏诚建设工程司法鉴定所",
        ), CASE, days=60, filed_in=LITIGATION),
        Kind("司法鉴定意见书", "深圳市鹏诚建设工程司法鉴定所", (
            "委托人：{court}",
            "鉴定事项：{project}{unit}外墙渗漏原因及修复费用。",
            "鉴定意见：渗漏系外墙窗框与墙体间防水密封施工不到位所致；修复费用约为人民币{case_award}元。",
        ), CASE, days=66, number="鹏诚司鉴〔2023〕建字第0{serial}号", pages=((
            "一、检验过程：鉴定人员于2023年5月4日进行现场勘验，对窗框四周进行淋水试验，三处窗边出现渗水。",
            "二、分析说明：窗框与墙体间缝隙未按设计要求填充发泡剂并打胶，属施工质量缺陷。",
            "三、修复方案：拆除窗边饰面，重新填缝、打胶并做淋水试验，恢复饰面。",
        ),), filed_in=LITIGATION),
        Kind("庭审笔录", "{court}", (
            "时间：2023年5月16日上午9时；地点：本院第六法庭。",
            "审判员：询问双方当事人对鉴定意见的意见。原告：无异议。被告：对修复费用有异议，认为偏高。",
            "审判员：双方是否同意调解？原告：同意。被告：同意在合理范围内调解。",
        ), CASE, days=71, number="{case_no}", filed_in=LITIGATION),
        Kind("代理词", "广东南粤明信律师事务所", (
            "审判员：",
            "受{developer}委托，本律师出庭代理本案诉讼，现发表如下代理意见：",
            "一、被告已履行交付及保修义务；二、原告主张的租金损失无证据证明；三、修复费用应以实际发生为准。",
        ), CASE, days=78, filed_in=LITIGATION),
        Kind("调解笔录", "{court}", (
            "调解时间：2023年6月8日",
            "原告要求赔偿人民币{case_claim}元，被告同意赔偿人民币{case_low}元，双方未能达成一致。",
            "本案调解不成，本院将依法判决。",
        ), CASE, days=94, number="{case_no}", filed_in=LITIGATION),
        Kind("判决生效证明书", "{court}", (
            "{case_no}民事判决书已于2023年7月26日发生法律效力。",
            "特此证明。",
        ), CASE, days=142, number="{case_no}", paper=True, filed_in=LITIGATION),
        Kind("履行付款审批表", "{developer}法律室", (
            "案件：{case_no}",
            "付款事项：按生效判决向{customer}支付人民币{case_award}元。",
            "审批意见：法律室、财务管理部、总经理办公室同意。",
        ), CASE, days=145, level=Level.B, scope=("FIN",), filed_in=LITIGATION),
        Kind("结案报告", "{developer}法律室", (
            "案件：{case_no}",
            "结果：一审判决被告支付人民币{case_award}元，双方均未上诉，判决已生效。",
            "履行情况：已于{date}支付完毕，案件结案，卷宗移交总经理办公室。",
        ), CASE, days=160, filed_in=LITIGATION),
    ),
    Category.ZL: (
        Kind("商铺租赁合同", "{developer}", (
            "出租方：{developer}",
            "承租方：{customer}",
            "第一条  租赁物业为{project}{unit}，建筑面积{area}平方米，经营用途为{business}。",
            "第二条  租赁期限自{lease_start}起至{lease_end}止，共{lease_years}年。",
            "第三条  月租金为人民币{rent}元，每两年递增百分之五；承租方应于签约时交纳租赁押金人民币{lease_deposit}元"
            "（相当于三个月租金）。",
        ), LEASE, number="ZL-{lease_year}-{serial}", pages=((
            "第四条  免租装修期为{free_months}个月，免租期内承租方仍应交纳物业管理费。",
            "第五条  承租方不得擅自转租、分租；经营须取得合法证照，并遵守商业街统一管理规定。",
            "第六条  租赁期满承租方不再续租的，应将商铺恢复原状后交还出租方，押金在结清费用后无息退还。",
            "第七条  本合同一式三份，出租方执两份，承租方执一份，自双方签字盖章之日起生效。",
        ),), signature=("{developer}", "{customer}"), paper=True),
        Kind("招商底价审批表", "{developer}商业组", (
            "审批对象：{unit}；建筑面积{area}平方米。",
            "市场评估租金：人民币{market_rent}元/平方米·月；审批底价：人民币{floor_rent}元/平方米·月；"
            "免租期不超过{free_months}个月。",
            "本表为核心商业秘密，知悉范围：商业组、财务管理部、总经理办公室。",
        ), LEASE, days=-60, level=Level.A, scope=("FIN",)),
        Kind("租赁意向书", "{customer}", (
            "意向承租方：{customer}",
            "意向租赁{project}{unit}，经营{business}，意向金人民币{intent}元。",
            "双方应于意向书签署后三十日内签订正式租赁合同。",
        ), LEASE, days=-30),
        Kind("营业执照复印件", "{customer}", (
            "名称  {customer}",
            "统一社会信用代码  {id_number}",
            "经营范围  {business}",
            "与原件一致  经办人：{com_agent}",
        ), LEASE, days=-5, original=False, scan=True),
        Kind("经营计划书", "{customer}", (
            "经营业态：{business}",
            "预计开业日期：{open_date}",
            "装修计划：签约后九十日内完成装修，装修方案报商业组及物业管理处审核。",
        ), LEASE, days=-20),
        Kind("商铺交接确认书", "{developer}商业组", (
            "出租方已于{date}将{project}{unit}交付承租方{customer}。",
            "交付状况：毛坯交付，水电已接驳至商铺内，消防喷淋完好。",
            "水表读数{water_meter}，电表读数{power_meter}。    承租方签字：{customer}",
        ), LEASE, days=10, paper=True),
        Kind("装修施工许可证", "{manager}", (
            "商铺：{unit}    承租方：{customer}",
            "装修期限：{date}起六十日；施工时间：每日8:00至12:00、14:00至18:00。",
            "装修押金人民币{renovation_deposit}元已交纳，竣工验收合格后无息退还。",
        ), LEASE, days=15, department="CSC"),
        Kind("租金调整确认函", "{developer}商业组", (
            "致{customer}：",
            "根据{unit}租赁合同第三条，自租期第三年起月租金递增百分之五，调整后月租金为人民币{raised_rent}元。",
            "请于收到本函后按新标准交纳租金。",
        ), LEASE, days=730),
        Kind("押金收据", "{developer}", (
            "今收到{customer}交来{unit}商铺租赁押金人民币{lease_deposit}元。",
            "收款方式：银行转账    经办人：{com_agent}",
        ), LEASE, number="SJ-{lease_year}-{serial}"),
    ),
    Category.QT: (
        Kind("装修申请表", "{manager}", (
            "申请人：{customer}    房号：{unit}",
            "装修内容：厨卫改造、全屋墙面翻新",
            "施工单位：深圳市匠心装饰工程有限公司",
            "装修期限：{date}起九十日",
        ), SERVICE, department="CSC"),
        Kind("业主来函", "{customer}", (
            "{developer}：",
            "本人{customer}为{unit}业主，联系电话{phone}，现申请将房屋通讯地址变更为深圳市福田区。",
            "特此函告。",
        ), SERVICE),
        Kind("档案查阅登记表", "{developer}总经理办公室", (
            "查阅人：{customer}（业主本人）",
            "查阅内容：{unit}房地产买卖合同及补充协议",
            "查阅方式：档案室现场查阅；经办人：{archivist}",
        ), SERVICE, department="GMO", paper=True),
        Kind("授权委托书", "{customer}", (
            "委托人：{customer}（证件号码：{id_number}）",
            "受托人：{customer}的近亲属",
            "委托事项：代为办理{unit}不动产权证书领取及相关手续。",
        ), CERTIFICATE, days=-3, paper=True),
        Kind("业主信息变更登记表", "{developer}客户事务组", (
            "房号：{unit}",
            "变更事项：联系电话变更为{phone}",
            "经办人：{ca_agent}    登记日期：{date}",
        ), SERVICE),
    ),
}
