"""Case studies the recommendations cite: what went wrong, what the team did, what it earned."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class CaseStudy:
    """One customer story; paragraphs are written with line breaks that `paragraph` folds away."""

    industry: str
    title: str
    challenge: str
    solution: str
    results: str


def paragraph(text: str) -> str:
    """Fold a paragraph written across source lines into one line of text."""
    return " ".join(text.split())


CASE_STUDIES = (
    CaseStudy(
        "Retail",
        "Dynamic product blocks nearly double click-through for an outdoor apparel retailer",
        """An outdoor apparel retailer with 140 stores and a fast-growing online business sent the
        same weekly newsletter to 1.2 million subscribers. Opens were healthy at 21%, but
        click-through had drifted down to 1.4% of sends. The merchandising team suspected the
        one-size-fits-all hero image: trail runners and winter campers were all shown the same parka.""",
        """The team replaced the fixed hero with dynamic product blocks chosen from each
        subscriber's last 90 days of browsing and purchases, and added a 'back in stock in your
        size' module for anyone who had abandoned a product page. Copy was cut by half and every
        block got its own call to action. Ten percent of the list was held out for six weeks so
        the change could be measured honestly.""",
        """Click-through rose from 1.4% to 2.6% of sends in eight weeks, with no change in the
        holdout group. Revenue per email sent grew 38%, and the back-in-stock module alone
        accounted for 11% of newsletter revenue by the end of the quarter.""",
    ),
    CaseStudy(
        "Retail",
        "Turning a home-goods retailer's growth streak into a loyalty and SMS expansion",
        """A home-goods retailer had grown revenue about 1.5% a week for a quarter on the back of a
        redesigned abandoned-cart flow, and its CSM wanted to keep the momentum once the easy wins
        were used up. Only 18% of repeat buyers were enrolled in the loyalty programme, and the
        marketing team had no budget line for a new channel.""",
        """In the quarterly business review the CSM showed that loyalty members converted at 2.3
        times the rate of other repeat buyers, and proposed adding SMS for loyalty members only.
        The retailer agreed to a 60-day pilot: a welcome series for new members, points-balance
        reminders and early access to sales, all triggered by purchases rather than the calendar.""",
        """Loyalty enrolment among repeat buyers climbed from 18% to 31% during the pilot, and SMS
        reached 9% of attributed revenue without cannibalising email. The retailer then signed a
        24-month expansion covering SMS and push, raising its annual contract value by 42%.""",
    ),
    CaseStudy(
        "Retail",
        "Planning a toy retailer's holiday peak so November did not burn out the list",
        """A specialty toy retailer earns 38% of its annual revenue between mid-November and
        Christmas, and every year it answered the season by roughly tripling email frequency. The
        previous December, unsubscribes spiked to 0.9% per send and complaints led a major mailbox
        provider to throttle delivery during the most valuable week of the year.""",
        """This time the team built the peak calendar eight weeks ahead. Frequency went up only for
        subscribers who had clicked in the last 60 days; dormant subscribers received one curated
        gift guide instead of daily offers; the biggest promotions were staged across email, SMS
        and push so no single channel carried every message. Inbox placement was checked daily
        with seed lists, with a rollback plan agreed in advance.""",
        """Holiday revenue from owned channels grew 27% year over year while unsubscribes per send
        fell from 0.9% to 0.35%. Inbox placement stayed above 94% throughout December, and January
        came in 12% above plan because far fewer customers had opted out over the holidays.""",
    ),
    CaseStudy(
        "Financial Services",
        "Subject-line testing and send-time optimisation lift a credit union's open rate",
        """A regional credit union with 310,000 members relied on email to promote savings products
        and card activation, but its open rate had slid from 24% to 17% over two years. Every
        message went out at 9 a.m. on a Tuesday, and subject lines were written by committee and
        almost never tested.""",
        """Marketing introduced a weekly subject-line test on 20% of each send, with the winner going
        to the rest four hours later, and adopted a short style guide: lead with the member's
        benefit, stay under 45 characters, no capitalised product names. At the same time it
        switched on send-time optimisation, delivering each message in the hour a member had most
        often opened mail over the previous 90 days.""",
        """The open rate recovered from 17% to 23.5% within ten weeks, and click-through rose from
        1.9% to 2.7% as more members saw the offers. Card activations from the onboarding series
        increased 19%, worth roughly $410,000 in first-year interchange by the credit union's own
        estimate.""",
    ),
    CaseStudy(
        "Financial Services",
        "An executive business review that kept a wealth-management platform from churning",
        """A wealth-management platform's engagement score had fallen for eleven consecutive weeks,
        its executive sponsor had left the company and the renewal was five months away. The new
        marketing director saw the messaging platform as a cost line and had asked procurement to
        look at alternatives.""",
        """The CSM requested an executive business review and built it around the client's goals
        rather than product features: net new assets, advisor productivity and client retention.
        The review showed which journeys were still working, admitted plainly which were not, and
        proposed a 90-day recovery plan with three measurable targets, a named owner on each side
        and a check-in every two weeks.""",
        """Two of the three targets were met within 60 days: the engagement score climbed from 48 to
        61, and a dormant-client journey reactivated 7% of inactive accounts. The client renewed for
        two years, and the new director now takes reference calls for the financial-services team.""",
    ),
    CaseStudy(
        "Financial Services",
        "Recovering a digital bank's SMS channel after carrier filtering cut delivery by 83%",
        """A digital bank sent fraud alerts, payment reminders and promotions over SMS from the same
        numbers. When stricter carrier registration rules took effect, promotional traffic was
        filtered and SMS delivery fell 83% in two weeks. Some payment reminders were caught in the
        same filter, and calls to the contact centre about missed payments doubled.""",
        """The team split transactional and promotional traffic onto separately registered sender
        numbers, rewrote promotional templates without link shorteners or capitalised offers, and
        re-confirmed consent for 140,000 numbers whose opt-in records were incomplete. Until SMS
        recovered, payment reminders were mirrored to push notifications and email so that no
        customer missed a due date.""",
        """SMS delivery was back to 97% within three weeks and SMS conversions reached 90% of their
        earlier level by week five. Opt-outs on promotional texts fell from 1.6% to 0.7% per send,
        because the re-confirmed audience actually wanted the messages.""",
    ),
    CaseStudy(
        "Technology",
        "Rebuilding push reach after an app release silently broke token registration",
        """A project-management SaaS company saw push sends drop 78% over a single weekend. Nobody
        had touched a campaign: a mobile release had moved the notification permission prompt
        behind a settings screen, so new installs never registered device tokens and expired tokens
        were no longer refreshed.""",
        """The CSM flagged the drop in the following Monday's weekly report and the customer's mobile
        team traced it to the release within a day. The fix restored token refresh on launch and
        moved the permission prompt to the moment a user completed their first task. Trial
        conversion messages were routed to email and in-app messages until push recovered, and a
        channel alert now fires on any day-over-day fall in sends of more than 40%.""",
        """Push reach was back to 92% of its earlier level in two weeks, and the contextual prompt
        lifted opt-in among new users from 41% to 58%. Trial conversion dipped only 3% during the
        outage thanks to the fallback routing, against an estimated 15% had the problem gone
        unnoticed for a month.""",
    ),
    CaseStudy(
        "Technology",
        "Multi-touch attribution shows webinars and social were opening the deals email closed",
        """A B2B analytics vendor credited all pipeline to the last email a prospect clicked before
        requesting a demo. By that measure social and webinar promotion looked worthless, and the
        CFO proposed cutting both to fund more email.""",
        """The marketing team compared first-touch, last-touch and linear attribution over twelve
        months of conversions. First-touch credited social with 44% of demo requests, against 9%
        under last-touch, and the linear model showed that a typical buyer touched three channels
        before converting. The team agreed to steer budget by the linear model and to review
        first-touch monthly to keep the top of the funnel healthy.""",
        """Instead of being cut, the social budget was held flat and webinar promotion grew 20%. Two
        quarters later demo requests were up 24% and cost per opportunity was down 17%, while
        email's conversion rate did not move: it had been closing deals that other channels opened.""",
    ),
    CaseStudy(
        "Technology",
        "Moving a developer-tools company's budget to the channels that convert",
        """A developer-tools company split its lifecycle budget evenly across email, push, SMS and
        paid social, a division inherited from a previous team. Conversion rates differed sixfold
        between channels, but nobody had looked at them side by side.""",
        """The CSM built a channel-effectiveness view of revenue per thousand sends over six months:
        email earned $41, in-app prompts $37, SMS $12 and paid social $6. The customer moved 30% of
        the social budget into email content and onboarding journeys, kept social for awareness
        only, and began reviewing the split monthly instead of once a year.""",
        """Within a quarter, trial-to-paid conversion rose from 8.1% to 10.4% and revenue per
        thousand sends across all channels increased 29%. Total spend did not change: the gain came
        entirely from moving money to where it already worked.""",
    ),
    CaseStudy(
        "Technology",
        "When a lapsed short-code lease took out a SaaS company's SMS channel",
        """A B2B software company used SMS for trial reminders and renewal notices. Over a fortnight
        its SMS sends and conversions fell by about 80%, while email and push were unchanged, so
        the drop was easy to miss in blended weekly numbers.""",
        """The CSM's weekly report isolated the decline to SMS, and the customer found that its
        short-code lease had lapsed after the owner left the company, pushing traffic onto a
        fallback long code that carriers rate-limited. The team renewed the lease, moved sender
        registrations to a shared operations mailbox with renewal reminders and added a per-channel
        volume alert. Trial reminders went out by email as well until SMS recovered.""",
        """SMS volume recovered within ten days and SMS conversions were back to 95% of their
        earlier level by week three. The company estimated that catching the problem in the first
        weekly report, rather than at quarter end, protected about $180,000 in renewals.""",
    ),
    CaseStudy(
        "Healthcare",
        "Re-engaging clinic patients whose engagement had quietly slipped for a quarter",
        """A network of outpatient clinics watched its engagement score fall from 66 to 52 over
        twelve weeks, and online bookings followed, down about 3% a week. The newsletter had not
        changed in a year, and a third of the list had not opened anything in 120 days.""",
        """The team segmented patients by their last meaningful action and wrote a three-step series
        for the dormant third: a plain-text note from a named clinician, a personal reminder of
        overdue preventive care, and a simple preference centre for topics and frequency. Patients
        who ignored all three moved to a quarterly mailing to protect sender reputation.""",
        """Within six weeks 23% of dormant patients had re-engaged, and the engagement score was back
        to 61 by the end of the quarter. Online bookings returned to growth, rising 14% from their
        low point, and spam complaints fell by half.""",
    ),
    CaseStudy(
        "Healthcare",
        "A churn-risk playbook that turned around a declining telehealth account",
        """A telehealth provider's revenue through the platform had fallen for three straight months
        and its engagement score sat ten points below the healthcare benchmark. Its marketing team
        had stopped building new journeys, a classic early sign of churn, yet the renewal
        conversation was still six months away.""",
        """The CSM ran the account through the churn-risk playbook: a call with the executive sponsor
        within two weeks, a business review that set every metric against industry peers, and a
        joint success plan focused on two journeys, appointment reminders and post-visit follow-up.
        The platform's solutions team rebuilt both journeys with the client in two working sessions.""",
        """Appointment no-shows dropped 18% and post-visit rebooking rose from 22% to 29% within
        eight weeks. Weekly revenue stopped declining in week four and was growing again by week
        ten, and the client renewed early with a 15% larger commitment.""",
    ),
    CaseStudy(
        "Healthcare",
        "Send-time optimisation for a dental group's reminders across four time zones",
        """A dental group with practices in four time zones sent every appointment reminder in one
        nightly batch at 6 p.m. Eastern, which reached West Coast patients mid-afternoon and Hawaii
        patients over lunch. Only 31% of reminders were opened, low for a message patients
        genuinely need.""",
        """Reminders were moved to each patient's local evening and then tuned with send-time
        optimisation, based on when each patient had opened in the past. Subject lines were cut to
        the date, time and practice name, and an SMS followed two hours later for anyone who had
        not opened the email.""",
        """The reminder open rate rose from 31% to 47% and confirmed appointments increased 12%.
        No-shows fell from 9.5% to 7.1%, which the group values at $1.3 million a year in recovered
        chair time.""",
    ),
    CaseStudy(
        "Travel & Hospitality",
        "Riding a resort group's summer peak without starving the shoulder season",
        """A resort group took almost half of its bookings between May and August and cut marketing
        sharply for the rest of the year. Each autumn revenue fell 30% below the summer level, and
        every spring the team rebuilt its audience from scratch.""",
        """The CSM compared twelve months of bookings with the industry's seasonal curve and showed
        that the group's off-season dip was twice as deep as its peers'. Together they planned an
        always-on shoulder-season programme, with wellness weekends, midweek offers for local
        audiences and an early-booking campaign launched in January instead of April, funded by
        trimming the last, already saturated weeks of summer.""",
        """Off-season revenue rose 21% year over year and early-booking revenue arrived six weeks
        sooner than the year before. Summer revenue held steady despite the smaller budget, and
        cost per booking across the year fell 14%.""",
    ),
    CaseStudy(
        "Travel & Hospitality",
        "Scaling the email programme that was already winning for a regional airline",
        """A regional airline promoted fares on email, SMS, push and social with equal effort. Two
        quarters of data showed that email produced 61% of attributed bookings on 38% of the spend,
        while push notifications were largely ignored outside check-in reminders.""",
        """The airline put its effort where the return was. Email frequency went up only for engaged
        subscribers, route-specific fare alerts were triggered by searches on the website, and push
        was limited to operational messages. Savings from paid social paid for content for the
        fare-alert programme.""",
        """Email-attributed bookings grew 34% in one quarter, and the fare alerts converted at 4.8%
        of sends against 1.1% for the general newsletter. Marketing cost per booking dropped 19%.""",
    ),
    CaseStudy(
        "Travel & Hospitality",
        "Destination content matched to trip style lifts a tour operator's click-through",
        """A tour operator's monthly newsletter featured the same six destinations for every reader.
        Click-through had sat at 1.6% for a year, well under the travel benchmark, and most clicks
        went to one beach destination regardless of who received the email.""",
        """The team tagged every past booking and browsing session with a trip style (adventure,
        culture, beach or family) and rebuilt the newsletter from modular blocks chosen by each
        subscriber's dominant style. Each email led with a single destination and one clear call to
        action, and secondary blocks were dropped for mobile readers.""",
        """Click-through rose from 1.6% to 2.9% of sends over two months and newsletter bookings
        grew 41%. Unsubscribes fell by a quarter, which the team put down to readers finally seeing
        trips like the ones they had booked before.""",
    ),
    CaseStudy(
        "Media & Entertainment",
        "Sender name and subject-line discipline fix a streaming service's open rate",
        """A streaming service converted well from the people who opened its emails, but only 11% of
        subscribers opened them, half the media benchmark. Mail came from a no-reply address with
        subject lines like 'This week on the service', and the list had not been cleaned in two
        years.""",
        """The team changed the sender to the brand plus a recognisable editor's name, tested
        subject lines that named a specific show instead of a generic digest, and wrote preview
        text for every send. Addresses that had not opened in 180 days received one final win-back
        message and were then suppressed.""",
        """The open rate rose from 11% to 19% within six weeks, and because conversion from opens
        held steady, trial sign-ups from email grew 52%. Sender reputation improved enough that a
        large share of Gmail recipients began receiving the emails in the primary tab.""",
    ),
    CaseStudy(
        "Media & Entertainment",
        "A reading-history win-back series for a digital magazine's lapsed subscribers",
        """A digital magazine's engagement score slipped by about a point a week through the summer,
        and cancellations were rising among subscribers who had not read an article in 30 days. Its
        generic 'we miss you' email brought back fewer than 1% of lapsed readers.""",
        """The editors built a win-back series from reading history: three emails over two weeks,
        each featuring new pieces in the topics a subscriber had read most, followed by a
        discounted quarter timed to the autumn issue. Readers who clicked but did not renew got a
        push notification with a one-tap renewal link.""",
        """The series reactivated 14% of lapsed readers, against 0.8% for the old email, and monthly
        cancellations fell 22%. Across the subscriber base the engagement score recovered from 54
        to 63 by the end of the autumn issue cycle.""",
    ),
    CaseStudy(
        "Media & Entertainment",
        "Attribution that gave a sports network's push alerts their due",
        """A sports network judged channels by last-touch attribution, which gave email 70% of
        subscription revenue and made push notifications look like a cost with little return. The
        product team wanted to cut push to reduce app uninstalls.""",
        """The CSM ran the same conversions through first-touch and linear models. Push score alerts
        were the first touch for 38% of new subscribers: fans discovered a live game through an
        alert and subscribed days later from an email offer. The network adopted linear attribution
        for budget decisions and capped push at three alerts a day instead of cutting it.""",
        """New-subscriber volume grew 17% over the season while app uninstalls fell 9% thanks to the
        cap. Leadership now reviews first-touch, last-touch and linear attribution side by side in
        the monthly business review.""",
    ),
    CaseStudy(
        "Manufacturing",
        "Reviving dealer engagement for an industrial parts manufacturer",
        """An industrial parts manufacturer sold through 2,300 dealers, and its engagement score sat
        twelve points below the manufacturing benchmark. Dealers told the field team that the
        monthly product update was a catalogue nobody had asked for, and more and more reorders came
        in by phone.""",
        """Marketing replaced the catalogue with a short digest by role: service managers received
        maintenance bulletins and compatibility notes, buyers received price changes and stock
        alerts for the parts they had ordered in the past year. Reorder reminders followed each
        dealer's own purchase cycle instead of the calendar.""",
        """The engagement score rose from 43 to 57 in one quarter and click-through nearly doubled,
        from 1.2% to 2.3%. Online reorders grew 26%, freeing about 300 hours a month of inside-sales
        time previously spent taking orders by phone.""",
    ),
    CaseStudy(
        "Manufacturing",
        "Useful technical content more than doubles click-through for an equipment maker",
        """A packaging-equipment manufacturer's emails were mostly product announcements with a
        single 'contact sales' button. Opens were respectable at 22%, but click-through was stuck
        at 1.1%, and sales complained that the few leads it received were early researchers rather
        than buyers.""",
        """The team switched to content engineers could use: changeover-time calculators,
        maintenance checklists and short videos of machines running customers' own products. Every
        piece ended with one next step matched to the buying stage, from downloading a spec sheet
        to booking a production-line audit.""",
        """Click-through rose from 1.1% to 2.4% in ten weeks and line-audit bookings doubled. The
        average conversion value grew 16%, because buyers arrived further along in their decision.""",
    ),
    CaseStudy(
        "Manufacturing",
        "From one pilot plant to seven: expanding a growing building-materials account",
        """A building-materials manufacturer had started with one plant's distributor communications
        and grown revenue through the platform about 2% a week for three months. Its six other
        plants still used spreadsheets and a legacy email tool, and central marketing doubted that
        one plant's results would travel.""",
        """The CSM turned the pilot into a business case: the weekly revenue trend, engagement
        against the industry benchmark and two journeys any plant could reuse. A second plant went
        live in four weeks on the same templates, with the pilot plant's marketing lead acting as
        internal champion.""",
        """The second plant matched the pilot's engagement within six weeks, and the customer signed
        an enterprise agreement covering all seven plants, tripling its contract value. Distributor
        reorders across the new sites grew 18% over the first two quarters.""",
    ),
    CaseStudy(
        "Education",
        "First-touch social, last-touch email: rebalancing an online university's enrolment budget",
        """An online university attributed each enrolment to the last channel before the
        application, which made email look responsible for nearly every new student. The social
        team, whose budget was under review, argued that most prospects first heard of the
        programmes on social media, but had no numbers to show for it.""",
        """Analysts ran first-touch, last-touch and linear attribution side by side over a full
        enrolment cycle. Social was the first touch for 61% of enrolled students but the last touch
        for only 12%; email was the mirror image. The university kept its email nurturing, protected
        the social budget, and added a hand-off: prospects who engaged with social content joined an
        email nurture track within 24 hours.""",
        """Application starts grew 19% for the next intake, and the time from first touch to
        application shortened by nine days. The board now reviews linear attribution alongside
        last-touch, and budget decisions cite both.""",
    ),
    CaseStudy(
        "Education",
        "Planning for the enrolment spike instead of scrambling through it",
        """A chain of language schools saw enquiries jump 40% or more in the three weeks before each
        term. Every term the team scrambled: extra campaigns were built at the last minute,
        follow-up was slow, and one rushed campaign sent the same prospects three emails in a day.""",
        """The team drew up an enrolment calendar with a ready-made campaign for each intake, a
        follow-up journey that answered enquiries within an hour, and a cap of one promotional
        message per day across all channels. After each spike it compared the campaign's revenue
        with the baseline to tell genuine growth from demand pulled forward.""",
        """Conversion from enquiry to enrolment rose from 18% to 25% in peak weeks, and unsubscribes
        during the spikes fell 60%. The post-term analysis showed that about a third of each spike
        was pulled forward from later weeks, which the school now plans for instead of mistaking it
        for a trend.""",
    ),
    CaseStudy(
        "Education",
        "Retaining a continuing-education department after a disappointing first year",
        """A university's continuing-education department ended its first contract year frustrated.
        Engagement scores were flat, the team used only two of the platform's features, and the
        dean questioned the renewal in a budget meeting.""",
        """The CSM proposed an executive business review with the dean and the marketing lead. It
        showed what the department had achieved against peers, where it lagged the education
        benchmark and a concrete plan for the next two terms: a course-recommendation journey and a
        webinar series, each with an owner and a target, and a monthly check-in in place of ad-hoc
        contact.""",
        """Within one term, course-recommendation emails reached 3.4% click-through and drove 11% of
        new registrations. The engagement score rose from 55 to 64, and the department renewed for
        three years and added its summer-school programme.""",
    ),
    CaseStudy(
        "Food & Beverage",
        "Keeping the buyers from a coffee roaster's limited-edition drop",
        """A speciality coffee roaster's limited-edition tasting box sold out in four days and lifted
        weekly revenue by 45%. The previous year's launch had been followed by a slump: most
        first-time buyers never ordered again, and the spike had hidden a flat underlying trend.""",
        """This time the follow-through was ready before the launch. Every box buyer entered a
        30-day journey with brewing guides for the coffees in the box, a one-question survey about
        their favourite and a subscription offer for that bean. Reporting separated the launch
        campaign from the baseline, so the team could see whether the core business was still
        growing.""",
        """17% of first-time box buyers took out a subscription within 60 days, against 5% after the
        previous launch. Revenue in the month after the spike ran 12% above the pre-launch baseline
        instead of falling back, and the roaster now plans two limited drops a year.""",
    ),
    CaseStudy(
        "Food & Beverage",
        "Winning back SMS subscribers after a meal-kit company's opt-out wave",
        """A meal-kit company sent daily discount texts during a competitive promotion, and SMS
        opt-outs jumped from 0.4% to 2.8% per send. Within three weeks its SMS audience had shrunk
        by a fifth and orders driven by SMS had fallen 70%.""",
        """The team paused promotional texts for two weeks, then relaunched SMS as a service channel:
        delivery windows, menu-selection reminders before the weekly cut-off and at most one offer a
        week. Customers who had opted out of SMS but still read email received a single message
        explaining the lighter cadence, with a one-click link to re-subscribe.""",
        """Opt-outs fell back to 0.3% per send, and 9% of lapsed SMS subscribers re-subscribed from
        the email invitation. SMS orders recovered to 85% of their earlier level in six weeks, and
        menu reminders cut missed weekly orders by 14%.""",
    ),
    CaseStudy(
        "Food & Beverage",
        "Shifting a quick-service chain's daily offer from email to late-morning push",
        """A quick-service restaurant chain promoted its app offers mainly by email, where fewer than
        15% of recipients opened and offers often arrived after lunch had already been decided.
        Push notifications were used only to say an order was ready.""",
        """The CSM compared revenue per thousand sends by channel and hour of day: push sent between
        11 a.m. and noon earned almost four times as much as the morning email. The chain moved its
        daily offer to location-aware push in the late morning, kept email for the weekly menu and
        loyalty statements, and capped offers at four pushes per customer per week.""",
        """App orders from offers rose 31% in the first month, and revenue per thousand sends across
        the two channels increased 44%. Push opt-outs stayed below 0.5% a week thanks to the cap.""",
    ),
)


def case_study_table() -> pa.Table:
    """Every case study as an Arrow table with the columns of `case_studies`."""
    columns: dict[str, list[str]] = {
        name: []
        for name in ("case_study_id", "title", "industry", "challenge", "solution", "results", "content")
    }
    for number, study in enumerate(CASE_STUDIES, start=1):
        parts = [paragraph(study.challenge), paragraph(study.solution), paragraph(study.results)]
        values = [f"CS-{number:03d}", study.title, study.industry, *parts, "\n\n".join(parts)]
        for name, value in zip(columns, values, strict=True):
            columns[name].append(value)
    return pa.table(columns)
