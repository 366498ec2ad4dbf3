// Interface strings (English, Russian, Kazakh), the reader's language, and the choice of which
// language of a record's text to show.

const STRINGS = {
  en: {
    'app.tagline': 'Regional Hub of Civil Service: best practices and events',
    'app.skip': 'Skip to content',
    'nav.label': 'Main',
    'nav.search': 'Search',
    'nav.calendar': 'Calendar',
    'nav.network': 'Network',
    'nav.audit': 'Audit',
    'lang.label': 'Language',
    'loading': 'Loading…',
    'error.title': 'Something went wrong',
    'error.network': 'The node did not answer: {detail}',
    'error.http': 'The node answered {status}: {detail}',
    'page.not_found': 'No such page.',
    'footer.text': 'Every record is signed by the member that published it; each record page checks the signature in your browser.',
    'footer.api': 'API (OpenAPI)',

    'search.title': 'Search practices and events',
    'search.label': 'Search text',
    'search.placeholder': 'e.g. merit recruitment, e-government…',
    'search.submit': 'Search',
    'search.hint': 'Operators: "a phrase", -excluded, a OR b.',
    'filters.title': 'Filters',
    'filters.reset': 'Clear all filters',
    'filters.active': 'Active filters',
    'filters.remove': 'Remove filter: {name}',
    'filter.kind': 'Kind',
    'filter.country': 'Country',
    'filter.topic': 'Topic',
    'filter.lang': 'Language of the text',
    'filter.created_from': 'Published from',
    'filter.created_to': 'Published until',
    'filter.sort': 'Sort by',
    'filter.include_retracted': 'Include retracted records',
    'filter.any': 'Any',
    'sort.default': 'Default',
    'sort.relevance': 'Relevance',
    'sort.newest': 'Newest first',
    'sort.oldest': 'Oldest first',
    'sort.start': 'Event start',
    'facets.title': 'Refine',
    'results.title': 'Results',
    'results.count': '{n} records found',
    'results.count_one': '1 record found',
    'results.none': 'Nothing found. Try fewer filters or other words.',
    'results.more': 'More results',
    'results.published': 'Published {date}',
    'results.starts': 'Starts {date}',
    'export.title': 'Download and subscribe',
    'export.csv': 'These results as CSV',
    'export.json': 'These results as JSON',
    'export.ics': 'Events feed (iCalendar)',
    'export.atom': 'Practices feed (Atom)',

    'kind.practice': 'Practice',
    'kind.event': 'Event',
    'kind.amendment': 'Amendment',
    'kind.retraction': 'Retraction',
    'badge.amended': 'amended',
    'badge.retracted': 'retracted',
    'status.scheduled': 'Scheduled',
    'status.postponed': 'Postponed',
    'status.cancelled': 'Cancelled',
    'type.conference': 'Conference',
    'type.training': 'Training',
    'type.webinar': 'Webinar',
    'type.study-visit': 'Study visit',
    'type.call': 'Call',

    'record.country': 'Country',
    'record.topics': 'Topics',
    'record.reform_period': 'Reform period',
    'record.ongoing': 'ongoing',
    'record.event_type': 'Type',
    'record.status': 'Status',
    'record.when': 'When',
    'record.your_time': 'your time: {time}',
    'record.place': 'Place',
    'record.online': 'Online',
    'record.organiser': 'Organiser',
    'record.languages': 'Working languages',
    'record.registration': 'Registration',
    'record.registration_deadline': 'Registration deadline: {date}',
    'record.links': 'Links',
    'record.results': 'Results',
    'record.license': 'Licence',
    'record.author': 'Published by',
    'record.chain': 'Position in the author’s log',
    'record.seq': 'Seq',
    'record.prev': 'Previous record',
    'record.first': 'none (first record)',
    'record.created': 'Published',
    'record.updated': 'Last changed',
    'record.details': 'Record details',
    'record.amended': 'Amended on {date}. The text shown is the amended version; the original stays in the log.',
    'record.amended_note': 'What changed:',
    'record.amendment_id': 'Amendment record',
    'record.retracted': 'RETRACTED on {date} by its author. It is kept for the record but withdrawn.',
    'record.retracted_reason': 'Reason:',
    'record.retraction_id': 'Retraction record',
    'record.is_amendment': 'This record is an amendment of another record:',
    'record.is_retraction': 'This record retracts another record:',
    'record.target_link': 'the record it changes',
    'record.cancelled': 'This event is CANCELLED.',
    'record.postponed': 'This event is POSTPONED.',
    'record.markdown': 'Show the text exactly as signed (Markdown)',
    'record.shown_in': 'Shown in {lang}; also available in: {others}',
    'record.cite': 'Cite this record',
    'record.cite_bibtex': 'BibTeX',
    'record.cite_csl': 'CSL-JSON',
    'record.cite_url': 'Stable URL',
    'record.cite_json': 'Record as JSON',
    'record.copy': 'Copy',
    'record.copied': 'Copied',
    'record.bad_id': 'This is not a record id (64 hex digits).',

    'verify.title': 'Signature check',
    'verify.pending': 'Checking the signature in your browser…',
    'verify.ok_short': 'Signature verified in your browser',
    'verify.bad_short': 'NOT VERIFIED — see the signature check',
    'verify.ok': 'Signature verified in your browser (Ed25519, WebCrypto) — signed by {code}, key {key}',
    'verify.ok_count': '{n} signed records checked: {parts}.',
    'verify.fail': 'NOT VERIFIED: {why}',
    'verify.in': '{record}: {why}',
    'verify.how': 'Your browser recomputed the record id, decoded the signed bytes itself and checked the Ed25519 signature against the member’s publishing key in the charter. Nothing the node decoded was trusted.',
    'verify.part.original': 'This record',
    'verify.part.amendment': 'Its latest amendment',
    'verify.part.retraction': 'Its retraction',
    'check.id.ok': 'Record id = SHA-256 of the signed header',
    'check.id.fail': 'the record id is not the SHA-256 of the signed header (computed {id})',
    'check.header.ok': 'Header decoded here: kind, seq, prev and time match',
    'check.header.fail': 'the signed header does not match what the node says ({detail})',
    'check.body.ok': 'Body matches the SHA-256 and length in the header',
    'check.body.fail': 'the body’s SHA-256 or length does not match the header',
    'check.author.ok': 'Author is member {code} (publishing key {key})',
    'check.author.fail': 'the author’s key is not the publishing key of the member the charter names',
    'check.network.ok': 'Network id {id} is this network’s charter',
    'check.network.fail': 'the record belongs to another network (network id {id})',
    'check.signature.ok': 'Ed25519 signature is valid',
    'check.signature.fail': 'the Ed25519 signature is invalid',
    'check.content.ok': 'The text shown is the text signed',
    'check.content.fail': 'the text shown differs from the signed bytes ({detail})',
    'check.target.ok': 'It refers to this record',
    'check.target.fail': 'it refers to another record ({id})',
    'check.encoding.fail': 'the signed bytes are missing or are not base64',
    'check.insecure.fail': 'your browser cannot check: WebCrypto works only on HTTPS or localhost pages',
    'check.no-webcrypto.fail': 'your browser cannot check: it has no WebCrypto',
    'check.no-ed25519.fail': 'your browser cannot check: its WebCrypto has no Ed25519',
    'check.members.fail': 'the charter’s member list could not be loaded',

    'cal.title': 'Events calendar',
    'cal.prev': 'Previous month',
    'cal.next': 'Next month',
    'cal.this': 'This month',
    'cal.none': 'No events this month.',
    'cal.next_event': 'Next month with events: {month}',
    'cal.subscribe': 'Subscribe to the events (iCalendar)',
    'cal.count': '{n} events',
    'cal.count_one': '1 event',

    'net.title': 'Network',
    'net.node': 'This node',
    'net.network_name': 'Network',
    'net.network_id': 'Network id',
    'net.peer_id': 'Peer id',
    'net.member': 'Member',
    'net.mirror': 'mirror (not a member)',
    'net.version': 'Version',
    'net.record_count': 'Records held',
    'net.heads_digest': 'Heads digest',
    'net.members': 'Members of the charter',
    'net.quorum': 'Steering Committee: quorum {q} of {n} keys',
    'net.code': 'Code',
    'net.name': 'Name',
    'net.key': 'Publishing key',
    'net.head': 'Head seq',
    'net.state': 'State',
    'net.ok': 'OK',
    'net.no_records': 'no records yet',
    'net.forked': 'FORK: signed two records at one position',
    'net.peers': 'Peers',
    'net.no_peers': 'No peers connected.',
    'net.address': 'Address',
    'net.score': 'Score',
    'net.lag': 'Lag',
    'net.last_seen': 'Last answer',
    'net.seconds_ago': '{n} s ago',
    'net.rtt': 'Ping',
    'net.peers_note': 'Peers that answer pings. One silent for a few seconds is dropped and dialled again.',
    'net.behind': '{n} behind',
    'net.ahead': '{n} ahead',
    'net.in_sync': 'in sync',
    'net.heads': 'Log heads',
    'net.seq': 'Seq',
    'net.id': 'Record id',
    'net.forks': 'Fork evidence',
    'net.fork_item': '{member} at seq {seq}: {n} different records',

    'fork.banner': 'Fork detected: {members} signed two different records for the same position in their log. Both are kept as evidence; the Steering Committee decides which stands.',
    'fork.details': 'See the network page',

    'audit.title': 'Audit',
    'audit.intro': 'What this node holds as signed evidence: each member’s logs and keys, every Steering Committee decision, and the checkpoints nodes signed of their view. Times are in UTC.',
    'audit.print': 'Print this audit',
    'audit.summary': 'Summary',
    'audit.committee': 'Steering Committee',
    'audit.quorum': 'quorum {q} of {n} keys',
    'audit.chain_length': 'Decisions in the governance chain',
    'audit.decisions_held': 'Decisions held',
    'audit.count_forks': 'Record forks',
    'audit.count_gov_forks': 'Governance forks',
    'audit.count_conflicts': 'Checkpoint conflicts',
    'audit.clean': 'Clean: this node holds no record fork, no governance fork and no checkpoint conflict.',
    'audit.problems': 'Findings: {n} (details below).',
    'audit.none': 'None.',
    'audit.members': 'Members',
    'audit.state': 'State',
    'audit.active': 'active',
    'audit.suspended': 'SUSPENDED',
    'audit.chain': 'Log of its current key',
    'audit.head_seq': 'head seq {seq}',
    'audit.records_held': 'Records held (all its keys)',
    'audit.admitted_by': 'Admitted by',
    'audit.by_charter': 'the charter',
    'audit.decision_ref': 'decision #{seq}',
    'audit.keys': 'Key history (oldest first)',
    'audit.key': 'Key',
    'audit.key_state': 'State',
    'audit.granted_by': 'Granted by',
    'audit.last_seq': 'Last valid seq',
    'audit.key_head': 'Head',
    'audit.current': 'current',
    'audit.former': 'former',
    'audit.no_limit': 'no limit',
    'audit.rotated_after': 'rotated after seq {seq}',
    'audit.revoked_after': 'revoked after seq {seq}',
    'audit.suspended_after': 'suspended after seq {seq}',
    'audit.past_valid': 'Records held past seq {seq} are not valid and do not count.',
    'audit.forks': 'Record forks',
    'audit.other_forks': 'Forks by keys no member holds',
    'audit.in_log': 'in the log',
    'audit.evidence': 'fork evidence',
    'audit.governance': 'Governance timeline',
    'audit.gov_forks': 'Governance forks',
    'audit.gov_fork_item': 'Seq {seq}: {n} competing decisions',
    'audit.gov_fork_badge': 'governance fork',
    'audit.no_decisions': 'No decisions yet: the charter is in force as signed.',
    'audit.seq': 'Seq',
    'audit.time': 'Time (UTC)',
    'audit.decision': 'Decision',
    'audit.signers': 'Signatures',
    'audit.status': 'Status',
    'audit.reason': 'Reason:',
    'audit.signers_of': '{n} (quorum {q})',
    'audit.status.applied': 'applied',
    'audit.status.void': 'void',
    'audit.status.off_chain': 'off the chain',
    'audit.checkpoints': 'Checkpoint witnesses',
    'audit.checkpoints_intro': 'The newest checkpoint each node signed of its view: the heads it held and how many governance decisions it knew.',
    'audit.no_checkpoints': 'No checkpoints held yet.',
    'audit.heads': 'Heads',
    'audit.gov_count': 'Decisions held',
    'audit.checkpoint': 'Checkpoint',
    'audit.conflicts': 'Checkpoint conflicts',
    'audit.conflict_by': '{member} signed two checkpoints that contradict each other',
    'audit.first_cp': 'First checkpoint',
    'audit.second_cp': 'Second checkpoint',
    'audit.conflict.equivocation': 'Equivocation: {author} at seq {seq} named as two different records:',
    'audit.conflict.rollback': 'Rollback: the log of {author} went back from seq {from} to seq {to}',
    'audit.conflict.governance_rollback': 'Governance rollback: held {from} governance decisions, later {to} or another set',
    'audit.conflict.other': 'Contradiction of kind {kind}',
  },
  ru: {
    'app.tagline': 'Региональный хаб государственной службы: лучшие практики и события',
    'app.skip': 'Перейти к содержанию',
    'nav.label': 'Главное меню',
    'nav.search': 'Поиск',
    'nav.calendar': 'Календарь',
    'nav.network': 'Сеть',
    'nav.audit': 'Аудит',
    'lang.label': 'Язык',
    'loading': 'Загрузка…',
    'error.title': 'Что-то пошло не так',
    'error.network': 'Узел не ответил: {detail}',
    'error.http': 'Узел ответил {status}: {detail}',
    'page.not_found': 'Такой страницы нет.',
    'footer.text': 'Каждая запись подписана участником, который её опубликовал; страница записи проверяет подпись в вашем браузере.',
    'footer.api': 'API (OpenAPI)',

    'search.title': 'Поиск практик и событий',
    'search.label': 'Текст для поиска',
    'search.placeholder': 'например, конкурсный отбор, электронное правительство…',
    'search.submit': 'Найти',
    'search.hint': 'Операторы: "фраза", -исключить, a OR b.',
    'filters.title': 'Фильтры',
    'filters.reset': 'Сбросить все фильтры',
    'filters.active': 'Выбранные фильтры',
    'filters.remove': 'Убрать фильтр: {name}',
    'filter.kind': 'Тип',
    'filter.country': 'Страна',
    'filter.topic': 'Тема',
    'filter.lang': 'Язык текста',
    'filter.created_from': 'Опубликовано с',
    'filter.created_to': 'Опубликовано по',
    'filter.sort': 'Сортировка',
    'filter.include_retracted': 'Показывать отозванные записи',
    'filter.any': 'Все',
    'sort.default': 'По умолчанию',
    'sort.relevance': 'По релевантности',
    'sort.newest': 'Сначала новые',
    'sort.oldest': 'Сначала старые',
    'sort.start': 'По дате события',
    'facets.title': 'Уточнить',
    'results.title': 'Результаты',
    'results.count': 'Найдено записей: {n}',
    'results.count_one': 'Найдена 1 запись',
    'results.none': 'Ничего не найдено. Уберите часть фильтров или измените запрос.',
    'results.more': 'Показать ещё',
    'results.published': 'Опубликовано {date}',
    'results.starts': 'Начало {date}',
    'export.title': 'Скачать и подписаться',
    'export.csv': 'Эти результаты в CSV',
    'export.json': 'Эти результаты в JSON',
    'export.ics': 'Лента событий (iCalendar)',
    'export.atom': 'Лента практик (Atom)',

    'kind.practice': 'Практика',
    'kind.event': 'Событие',
    'kind.amendment': 'Изменение',
    'kind.retraction': 'Отзыв',
    'badge.amended': 'изменено',
    'badge.retracted': 'отозвано',
    'status.scheduled': 'Запланировано',
    'status.postponed': 'Перенесено',
    'status.cancelled': 'Отменено',
    'type.conference': 'Конференция',
    'type.training': 'Обучение',
    'type.webinar': 'Вебинар',
    'type.study-visit': 'Ознакомительный визит',
    'type.call': 'Конкурс / приём заявок',

    'record.country': 'Страна',
    'record.topics': 'Темы',
    'record.reform_period': 'Период реформы',
    'record.ongoing': 'по настоящее время',
    'record.event_type': 'Формат',
    'record.status': 'Статус',
    'record.when': 'Когда',
    'record.your_time': 'по вашему времени: {time}',
    'record.place': 'Место',
    'record.online': 'Онлайн',
    'record.organiser': 'Организатор',
    'record.languages': 'Рабочие языки',
    'record.registration': 'Регистрация',
    'record.registration_deadline': 'Регистрация до: {date}',
    'record.links': 'Ссылки',
    'record.results': 'Результаты',
    'record.license': 'Лицензия',
    'record.author': 'Опубликовал',
    'record.chain': 'Место в журнале автора',
    'record.seq': 'Номер',
    'record.prev': 'Предыдущая запись',
    'record.first': 'нет (первая запись)',
    'record.created': 'Опубликовано',
    'record.updated': 'Последнее изменение',
    'record.details': 'Сведения о записи',
    'record.amended': 'Изменено {date}. Показана изменённая версия; исходная запись остаётся в журнале.',
    'record.amended_note': 'Что изменилось:',
    'record.amendment_id': 'Запись об изменении',
    'record.retracted': 'ОТОЗВАНО {date} автором. Запись сохранена, но больше не действует.',
    'record.retracted_reason': 'Причина:',
    'record.retraction_id': 'Запись об отзыве',
    'record.is_amendment': 'Эта запись изменяет другую запись:',
    'record.is_retraction': 'Эта запись отзывает другую запись:',
    'record.target_link': 'изменяемая запись',
    'record.cancelled': 'Это событие ОТМЕНЕНО.',
    'record.postponed': 'Это событие ПЕРЕНЕСЕНО.',
    'record.markdown': 'Показать текст в точности как подписан (Markdown)',
    'record.shown_in': 'Показано на языке: {lang}; есть также: {others}',
    'record.cite': 'Цитировать запись',
    'record.cite_bibtex': 'BibTeX',
    'record.cite_csl': 'CSL-JSON',
    'record.cite_url': 'Постоянная ссылка',
    'record.cite_json': 'Запись в JSON',
    'record.copy': 'Копировать',
    'record.copied': 'Скопировано',
    'record.bad_id': 'Это не идентификатор записи (64 шестнадцатеричные цифры).',

    'verify.title': 'Проверка подписи',
    'verify.pending': 'Браузер проверяет подпись…',
    'verify.ok_short': 'Подпись проверена в вашем браузере',
    'verify.bad_short': 'НЕ ПРОВЕРЕНО — см. проверку подписи',
    'verify.ok': 'Подпись проверена в вашем браузере (Ed25519, WebCrypto) — подписал {code}, ключ {key}',
    'verify.ok_count': 'Проверено подписанных записей: {n} ({parts}).',
    'verify.fail': 'НЕ ПРОВЕРЕНО: {why}',
    'verify.in': '{record}: {why}',
    'verify.how': 'Браузер сам пересчитал идентификатор записи, разобрал подписанные байты и проверил подпись Ed25519 по ключу участника из устава сети. Расшифровке узла он не доверял.',
    'verify.part.original': 'Эта запись',
    'verify.part.amendment': 'Последнее изменение',
    'verify.part.retraction': 'Отзыв',
    'check.id.ok': 'Идентификатор записи = SHA-256 подписанного заголовка',
    'check.id.fail': 'идентификатор записи не равен SHA-256 подписанного заголовка (вычислено {id})',
    'check.header.ok': 'Заголовок разобран здесь: тип, номер, ссылка на предыдущую и время совпадают',
    'check.header.fail': 'подписанный заголовок не совпадает с данными узла ({detail})',
    'check.body.ok': 'Тело записи совпадает с SHA-256 и длиной из заголовка',
    'check.body.fail': 'SHA-256 или длина тела не совпадает с заголовком',
    'check.author.ok': 'Автор — участник {code} (ключ публикации {key})',
    'check.author.fail': 'ключ автора не является ключом публикации участника по уставу',
    'check.network.ok': 'Идентификатор сети {id} соответствует уставу этой сети',
    'check.network.fail': 'запись относится к другой сети (идентификатор {id})',
    'check.signature.ok': 'Подпись Ed25519 верна',
    'check.signature.fail': 'подпись Ed25519 неверна',
    'check.content.ok': 'Показанный текст совпадает с подписанным',
    'check.content.fail': 'показанный текст отличается от подписанных байтов ({detail})',
    'check.target.ok': 'Относится к этой записи',
    'check.target.fail': 'относится к другой записи ({id})',
    'check.encoding.fail': 'подписанные байты отсутствуют или не в base64',
    'check.insecure.fail': 'браузер не может проверить: WebCrypto работает только на страницах HTTPS или localhost',
    'check.no-webcrypto.fail': 'браузер не может проверить: в нём нет WebCrypto',
    'check.no-ed25519.fail': 'браузер не может проверить: его WebCrypto не поддерживает Ed25519',
    'check.members.fail': 'не удалось загрузить список участников устава',

    'cal.title': 'Календарь событий',
    'cal.prev': 'Предыдущий месяц',
    'cal.next': 'Следующий месяц',
    'cal.this': 'Текущий месяц',
    'cal.none': 'В этом месяце событий нет.',
    'cal.next_event': 'Ближайший месяц с событиями: {month}',
    'cal.subscribe': 'Подписаться на события (iCalendar)',
    'cal.count': 'Событий: {n}',
    'cal.count_one': 'Одно событие',

    'net.title': 'Сеть',
    'net.node': 'Этот узел',
    'net.network_name': 'Сеть',
    'net.network_id': 'Идентификатор сети',
    'net.peer_id': 'Идентификатор узла',
    'net.member': 'Участник',
    'net.mirror': 'зеркало (не участник)',
    'net.version': 'Версия',
    'net.record_count': 'Записей хранится',
    'net.heads_digest': 'Сводный хеш журналов',
    'net.members': 'Участники устава',
    'net.quorum': 'Руководящий комитет: кворум {q} из {n} ключей',
    'net.code': 'Код',
    'net.name': 'Название',
    'net.key': 'Ключ публикации',
    'net.head': 'Последний номер',
    'net.state': 'Состояние',
    'net.ok': 'В порядке',
    'net.no_records': 'записей пока нет',
    'net.forked': 'РАЗВИЛКА: две разные записи на одном месте',
    'net.peers': 'Соседние узлы',
    'net.no_peers': 'Нет подключённых узлов.',
    'net.address': 'Адрес',
    'net.score': 'Оценка',
    'net.lag': 'Отставание',
    'net.last_seen': 'Последний ответ',
    'net.seconds_ago': '{n} с назад',
    'net.rtt': 'Пинг',
    'net.peers_note': 'Узлы, отвечающие на пинг. Молчащий несколько секунд узел отключается, и к нему подключаются снова.',
    'net.behind': 'отстаёт на {n}',
    'net.ahead': 'впереди на {n}',
    'net.in_sync': 'синхронизирован',
    'net.heads': 'Концы журналов',
    'net.seq': 'Номер',
    'net.id': 'Идентификатор записи',
    'net.forks': 'Доказательства развилок',
    'net.fork_item': '{member}, номер {seq}: разных записей {n}',

    'fork.banner': 'Обнаружена развилка: {members} подписал(и) две разные записи для одного места в журнале. Обе сохранены как доказательство; решение принимает Руководящий комитет.',
    'fork.details': 'Подробнее на странице сети',

    'audit.title': 'Аудит',
    'audit.intro': 'Что этот узел хранит как подписанные доказательства: журналы и ключи каждого участника, все решения Руководящего комитета и контрольные точки, которые узлы подписали о своём состоянии. Время указано в UTC.',
    'audit.print': 'Распечатать аудит',
    'audit.summary': 'Итог',
    'audit.committee': 'Руководящий комитет',
    'audit.quorum': 'кворум {q} из {n} ключей',
    'audit.chain_length': 'Решений в цепочке управления',
    'audit.decisions_held': 'Решений хранится',
    'audit.count_forks': 'Развилки записей',
    'audit.count_gov_forks': 'Развилки управления',
    'audit.count_conflicts': 'Противоречия контрольных точек',
    'audit.clean': 'Чисто: у этого узла нет ни развилок записей, ни развилок управления, ни противоречий контрольных точек.',
    'audit.problems': 'Обнаружено проблем: {n} (подробности ниже).',
    'audit.none': 'Нет.',
    'audit.members': 'Участники',
    'audit.state': 'Состояние',
    'audit.active': 'действует',
    'audit.suspended': 'ПРИОСТАНОВЛЕН',
    'audit.chain': 'Журнал текущего ключа',
    'audit.head_seq': 'последний номер {seq}',
    'audit.records_held': 'Записей хранится (по всем ключам)',
    'audit.admitted_by': 'Принят',
    'audit.by_charter': 'уставом',
    'audit.decision_ref': 'решение №{seq}',
    'audit.keys': 'История ключей (сначала старые)',
    'audit.key': 'Ключ',
    'audit.key_state': 'Состояние',
    'audit.granted_by': 'Выдан',
    'audit.last_seq': 'Последний действительный номер',
    'audit.key_head': 'Конец журнала',
    'audit.current': 'текущий',
    'audit.former': 'прежний',
    'audit.no_limit': 'без ограничения',
    'audit.rotated_after': 'заменён после номера {seq}',
    'audit.revoked_after': 'отозван после номера {seq}',
    'audit.suspended_after': 'приостановлен после номера {seq}',
    'audit.past_valid': 'Записи после номера {seq} хранятся, но недействительны и не учитываются.',
    'audit.forks': 'Развилки записей',
    'audit.other_forks': 'Развилки ключей, которых нет ни у одного участника',
    'audit.in_log': 'в журнале',
    'audit.evidence': 'доказательство развилки',
    'audit.governance': 'Хронология управления',
    'audit.gov_forks': 'Развилки управления',
    'audit.gov_fork_item': 'Номер {seq}: конкурирующих решений {n}',
    'audit.gov_fork_badge': 'развилка управления',
    'audit.no_decisions': 'Решений пока нет: действует устав в подписанном виде.',
    'audit.seq': 'Номер',
    'audit.time': 'Время (UTC)',
    'audit.decision': 'Решение',
    'audit.signers': 'Подписи',
    'audit.status': 'Статус',
    'audit.reason': 'Основание:',
    'audit.signers_of': '{n} (кворум {q})',
    'audit.status.applied': 'применено',
    'audit.status.void': 'ничтожно',
    'audit.status.off_chain': 'вне цепочки',
    'audit.checkpoints': 'Свидетельства контрольных точек',
    'audit.checkpoints_intro': 'Последняя контрольная точка, подписанная каждым узлом: концы журналов, которые он хранил, и число известных ему решений управления.',
    'audit.no_checkpoints': 'Контрольных точек пока нет.',
    'audit.heads': 'Концы журналов',
    'audit.gov_count': 'Решений известно',
    'audit.checkpoint': 'Контрольная точка',
    'audit.conflicts': 'Противоречия контрольных точек',
    'audit.conflict_by': '{member} подписал две противоречащие друг другу контрольные точки',
    'audit.first_cp': 'Первая контрольная точка',
    'audit.second_cp': 'Вторая контрольная точка',
    'audit.conflict.equivocation': 'Двойное утверждение: у {author} под номером {seq} названы две разные записи:',
    'audit.conflict.rollback': 'Откат: журнал {author} вернулся с номера {from} на номер {to}',
    'audit.conflict.governance_rollback': 'Откат управления: узел хранил {from} решений управления, позже {to} или другой набор',
    'audit.conflict.other': 'Противоречие вида {kind}',
  },
  kk: {
    'app.tagline': 'Мемлекеттік қызмет саласындағы өңірлік хаб: үздік тәжірибелер мен іс-шаралар',
    'app.skip': 'Мазмұнға өту',
    'nav.label': 'Басты мәзір',
    'nav.search': 'Іздеу',
    'nav.calendar': 'Күнтізбе',
    'nav.network': 'Желі',
    'nav.audit': 'Аудит',
    'lang.label': 'Тіл',
    'loading': 'Жүктелуде…',
    'error.title': 'Қате орын алды',
    'error.network': 'Түйін жауап бермеді: {detail}',
    'error.http': 'Түйін {status} деп жауап берді: {detail}',
    'page.not_found': 'Мұндай бет жоқ.',
    'footer.text': 'Әр жазбаға оны жариялаған қатысушы қол қойған; жазба беті қолтаңбаны сіздің браузеріңізде тексереді.',
    'footer.api': 'API (OpenAPI)',

    'search.title': 'Тәжірибелер мен іс-шараларды іздеу',
    'search.label': 'Іздеу мәтіні',
    'search.placeholder': 'мысалы, конкурстық іріктеу, электрондық үкімет…',
    'search.submit': 'Іздеу',
    'search.hint': 'Операторлар: "тіркес", -алып тастау, a OR b.',
    'filters.title': 'Сүзгілер',
    'filters.reset': 'Барлық сүзгілерді тазарту',
    'filters.active': 'Таңдалған сүзгілер',
    'filters.remove': 'Сүзгіні алып тастау: {name}',
    'filter.kind': 'Түрі',
    'filter.country': 'Ел',
    'filter.topic': 'Тақырып',
    'filter.lang': 'Мәтін тілі',
    'filter.created_from': 'Жарияланған күннен',
    'filter.created_to': 'Жарияланған күнге дейін',
    'filter.sort': 'Сұрыптау',
    'filter.include_retracted': 'Кері қайтарылған жазбаларды көрсету',
    'filter.any': 'Барлығы',
    'sort.default': 'Әдепкі',
    'sort.relevance': 'Сәйкестігі бойынша',
    'sort.newest': 'Алдымен жаңалары',
    'sort.oldest': 'Алдымен ескілері',
    'sort.start': 'Іс-шара басталуы бойынша',
    'facets.title': 'Нақтылау',
    'results.title': 'Нәтижелер',
    'results.count': 'Табылған жазбалар: {n}',
    'results.count_one': '1 жазба табылды',
    'results.none': 'Ештеңе табылмады. Сүзгілерді азайтып көріңіз.',
    'results.more': 'Тағы көрсету',
    'results.published': 'Жарияланды: {date}',
    'results.starts': 'Басталуы: {date}',
    'export.title': 'Жүктеу және жазылу',
    'export.csv': 'Осы нәтижелер CSV түрінде',
    'export.json': 'Осы нәтижелер JSON түрінде',
    'export.ics': 'Іс-шаралар арнасы (iCalendar)',
    'export.atom': 'Тәжірибелер арнасы (Atom)',

    'kind.practice': 'Тәжірибе',
    'kind.event': 'Іс-шара',
    'kind.amendment': 'Өзгеріс',
    'kind.retraction': 'Кері қайтару',
    'badge.amended': 'өзгертілген',
    'badge.retracted': 'кері қайтарылған',
    'status.scheduled': 'Жоспарланған',
    'status.postponed': 'Шегерілген',
    'status.cancelled': 'Тоқтатылған',
    'type.conference': 'Конференция',
    'type.training': 'Оқыту',
    'type.webinar': 'Вебинар',
    'type.study-visit': 'Танысу сапары',
    'type.call': 'Өтінімдер қабылдау',

    'record.country': 'Ел',
    'record.topics': 'Тақырыптар',
    'record.reform_period': 'Реформа кезеңі',
    'record.ongoing': 'қазіргі уақытқа дейін',
    'record.event_type': 'Форматы',
    'record.status': 'Мәртебесі',
    'record.when': 'Қашан',
    'record.your_time': 'сіздің уақытыңыз бойынша: {time}',
    'record.place': 'Өтетін орны',
    'record.online': 'Онлайн',
    'record.organiser': 'Ұйымдастырушы',
    'record.languages': 'Жұмыс тілдері',
    'record.registration': 'Тіркелу',
    'record.registration_deadline': 'Тіркелу мерзімі: {date}',
    'record.links': 'Сілтемелер',
    'record.results': 'Нәтижелер',
    'record.license': 'Лицензия',
    'record.author': 'Жариялаған',
    'record.chain': 'Автор журналындағы орны',
    'record.seq': 'Нөмірі',
    'record.prev': 'Алдыңғы жазба',
    'record.first': 'жоқ (бірінші жазба)',
    'record.created': 'Жарияланды',
    'record.updated': 'Соңғы өзгеріс',
    'record.details': 'Жазба туралы мәлімет',
    'record.amended': '{date} өзгертілді. Өзгертілген нұсқасы көрсетілген; бастапқы жазба журналда сақталады.',
    'record.amended_note': 'Не өзгерді:',
    'record.amendment_id': 'Өзгеріс жазбасы',
    'record.retracted': '{date} авторы КЕРІ ҚАЙТАРДЫ. Жазба сақталған, бірақ күшін жойған.',
    'record.retracted_reason': 'Себебі:',
    'record.retraction_id': 'Кері қайтару жазбасы',
    'record.is_amendment': 'Бұл жазба басқа жазбаны өзгертеді:',
    'record.is_retraction': 'Бұл жазба басқа жазбаны кері қайтарады:',
    'record.target_link': 'өзгертілетін жазба',
    'record.cancelled': 'Бұл іс-шара ТОҚТАТЫЛДЫ.',
    'record.postponed': 'Бұл іс-шара ШЕГЕРІЛДІ.',
    'record.markdown': 'Мәтінді қол қойылған күйінде көрсету (Markdown)',
    'record.shown_in': 'Көрсетілген тіл: {lang}; басқа тілдер: {others}',
    'record.cite': 'Жазбаға сілтеме жасау',
    'record.cite_bibtex': 'BibTeX',
    'record.cite_csl': 'CSL-JSON',
    'record.cite_url': 'Тұрақты сілтеме',
    'record.cite_json': 'Жазба JSON түрінде',
    'record.copy': 'Көшіру',
    'record.copied': 'Көшірілді',
    'record.bad_id': 'Бұл жазба идентификаторы емес (64 он алтылық цифр).',

    'verify.title': 'Қолтаңбаны тексеру',
    'verify.pending': 'Браузер қолтаңбаны тексеруде…',
    'verify.ok_short': 'Қолтаңба браузеріңізде тексерілді',
    'verify.bad_short': 'ТЕКСЕРІЛМЕДІ — қолтаңбаны тексеруді қараңыз',
    'verify.ok': 'Қолтаңба сіздің браузеріңізде тексерілді (Ed25519, WebCrypto) — қол қойған {code}, кілт {key}',
    'verify.ok_count': 'Тексерілген қол қойылған жазбалар: {n} ({parts}).',
    'verify.fail': 'ТЕКСЕРІЛМЕДІ: {why}',
    'verify.in': '{record}: {why}',
    'verify.how': 'Браузер жазба идентификаторын өзі есептеп, қол қойылған байттарды өзі талдап, Ed25519 қолтаңбасын жарғыдағы қатысушының кілті бойынша тексерді. Түйіннің талдауына сенбеді.',
    'verify.part.original': 'Осы жазба',
    'verify.part.amendment': 'Соңғы өзгерісі',
    'verify.part.retraction': 'Кері қайтарылуы',
    'check.id.ok': 'Жазба идентификаторы = қол қойылған тақырыптаманың SHA-256 мәні',
    'check.id.fail': 'жазба идентификаторы тақырыптаманың SHA-256 мәніне тең емес (есептелгені {id})',
    'check.header.ok': 'Тақырыптама осында талданды: түрі, нөмірі, алдыңғысы және уақыты сәйкес',
    'check.header.fail': 'қол қойылған тақырыптама түйін деректерімен сәйкес емес ({detail})',
    'check.body.ok': 'Жазба денесі тақырыптамадағы SHA-256 және ұзындыққа сәйкес',
    'check.body.fail': 'дененің SHA-256 мәні немесе ұзындығы тақырыптамаға сәйкес емес',
    'check.author.ok': 'Авторы — {code} қатысушысы (жариялау кілті {key})',
    'check.author.fail': 'автордың кілті жарғы бойынша қатысушының жариялау кілті емес',
    'check.network.ok': '{id} желі идентификаторы осы желінің жарғысына сәйкес',
    'check.network.fail': 'жазба басқа желіге тиесілі (идентификаторы {id})',
    'check.signature.ok': 'Ed25519 қолтаңбасы дұрыс',
    'check.signature.fail': 'Ed25519 қолтаңбасы дұрыс емес',
    'check.content.ok': 'Көрсетілген мәтін қол қойылған мәтінмен бірдей',
    'check.content.fail': 'көрсетілген мәтін қол қойылған байттардан өзгеше ({detail})',
    'check.target.ok': 'Осы жазбаға қатысты',
    'check.target.fail': 'басқа жазбаға қатысты ({id})',
    'check.encoding.fail': 'қол қойылған байттар жоқ немесе base64 емес',
    'check.insecure.fail': 'браузер тексере алмайды: WebCrypto тек HTTPS немесе localhost беттерінде жұмыс істейді',
    'check.no-webcrypto.fail': 'браузер тексере алмайды: онда WebCrypto жоқ',
    'check.no-ed25519.fail': 'браузер тексере алмайды: оның WebCrypto-сы Ed25519 қолдамайды',
    'check.members.fail': 'жарғы қатысушыларының тізімі жүктелмеді',

    'cal.title': 'Іс-шаралар күнтізбесі',
    'cal.prev': 'Алдыңғы ай',
    'cal.next': 'Келесі ай',
    'cal.this': 'Ағымдағы ай',
    'cal.none': 'Бұл айда іс-шара жоқ.',
    'cal.next_event': 'Іс-шарасы бар келесі ай: {month}',
    'cal.subscribe': 'Іс-шараларға жазылу (iCalendar)',
    'cal.count': 'Іс-шаралар: {n}',
    'cal.count_one': '1 іс-шара',

    'net.title': 'Желі',
    'net.node': 'Осы түйін',
    'net.network_name': 'Желі',
    'net.network_id': 'Желі идентификаторы',
    'net.peer_id': 'Түйін идентификаторы',
    'net.member': 'Қатысушы',
    'net.mirror': 'айна (қатысушы емес)',
    'net.version': 'Нұсқа',
    'net.record_count': 'Сақталған жазбалар',
    'net.heads_digest': 'Журналдардың жиынтық хеші',
    'net.members': 'Жарғы қатысушылары',
    'net.quorum': 'Басқарушы комитет: {n} кілттің {q} кворумы',
    'net.code': 'Коды',
    'net.name': 'Атауы',
    'net.key': 'Жариялау кілті',
    'net.head': 'Соңғы нөмір',
    'net.state': 'Күйі',
    'net.ok': 'Қалыпты',
    'net.no_records': 'әзірге жазба жоқ',
    'net.forked': 'АЙЫРЫҚ: бір орынға екі түрлі жазба',
    'net.peers': 'Көрші түйіндер',
    'net.no_peers': 'Қосылған түйін жоқ.',
    'net.address': 'Мекенжайы',
    'net.score': 'Бағасы',
    'net.lag': 'Артта қалуы',
    'net.last_seen': 'Соңғы жауап',
    'net.seconds_ago': '{n} с бұрын',
    'net.rtt': 'Пинг',
    'net.peers_note': 'Пингке жауап беретін түйіндер. Бірнеше секунд үнсіз түйін ажыратылып, оған қайта қосылады.',
    'net.behind': '{n} артта',
    'net.ahead': '{n} алда',
    'net.in_sync': 'үйлесімді',
    'net.heads': 'Журнал соңдары',
    'net.seq': 'Нөмірі',
    'net.id': 'Жазба идентификаторы',
    'net.forks': 'Айырық дәлелдері',
    'net.fork_item': '{member}, {seq} нөмірі: {n} түрлі жазба',

    'fork.banner': 'Айырық анықталды: {members} журналдағы бір орынға екі түрлі жазбаға қол қойды. Екеуі де дәлел ретінде сақталған; шешімді Басқарушы комитет қабылдайды.',
    'fork.details': 'Желі бетінде толығырақ',

    'audit.title': 'Аудит',
    'audit.intro': 'Бұл түйін қол қойылған дәлел ретінде не сақтайды: әр қатысушының журналдары мен кілттері, Басқарушы комитеттің барлық шешімдері және түйіндер өз күйі туралы қол қойған бақылау нүктелері. Уақыт UTC бойынша.',
    'audit.print': 'Аудитті басып шығару',
    'audit.summary': 'Қорытынды',
    'audit.committee': 'Басқарушы комитет',
    'audit.quorum': '{n} кілттің {q} кворумы',
    'audit.chain_length': 'Басқару тізбегіндегі шешімдер',
    'audit.decisions_held': 'Сақталған шешімдер',
    'audit.count_forks': 'Жазба айырықтары',
    'audit.count_gov_forks': 'Басқару айырықтары',
    'audit.count_conflicts': 'Бақылау нүктелерінің қайшылықтары',
    'audit.clean': 'Таза: бұл түйінде жазба айырығы да, басқару айырығы да, бақылау нүктелерінің қайшылығы да жоқ.',
    'audit.problems': 'Анықталған мәселелер: {n} (төменде толығырақ).',
    'audit.none': 'Жоқ.',
    'audit.members': 'Қатысушылар',
    'audit.state': 'Күйі',
    'audit.active': 'белсенді',
    'audit.suspended': 'ТОҚТАТЫЛҒАН',
    'audit.chain': 'Ағымдағы кілтінің журналы',
    'audit.head_seq': 'соңғы нөмір {seq}',
    'audit.records_held': 'Сақталған жазбалар (барлық кілттері)',
    'audit.admitted_by': 'Қабылдаған',
    'audit.by_charter': 'жарғы',
    'audit.decision_ref': '№{seq} шешім',
    'audit.keys': 'Кілттер тарихы (ескілері алдымен)',
    'audit.key': 'Кілт',
    'audit.key_state': 'Күйі',
    'audit.granted_by': 'Берген',
    'audit.last_seq': 'Соңғы жарамды нөмір',
    'audit.key_head': 'Журнал соңы',
    'audit.current': 'ағымдағы',
    'audit.former': 'бұрынғы',
    'audit.no_limit': 'шектеусіз',
    'audit.rotated_after': '{seq} нөмірінен кейін ауыстырылды',
    'audit.revoked_after': '{seq} нөмірінен кейін кері қайтарылды',
    'audit.suspended_after': '{seq} нөмірінен кейін тоқтатылды',
    'audit.past_valid': '{seq} нөмірінен кейінгі жазбалар сақталған, бірақ жарамсыз және есепке алынбайды.',
    'audit.forks': 'Жазба айырықтары',
    'audit.other_forks': 'Ешбір қатысушыға тиесілі емес кілттердің айырықтары',
    'audit.in_log': 'журналда',
    'audit.evidence': 'айырық дәлелі',
    'audit.governance': 'Басқару хронологиясы',
    'audit.gov_forks': 'Басқару айырықтары',
    'audit.gov_fork_item': '{seq} нөмірі: {n} бәсекелес шешім',
    'audit.gov_fork_badge': 'басқару айырығы',
    'audit.no_decisions': 'Әзірге шешім жоқ: жарғы қол қойылған күйінде күшінде.',
    'audit.seq': 'Нөмірі',
    'audit.time': 'Уақыты (UTC)',
    'audit.decision': 'Шешім',
    'audit.signers': 'Қолтаңбалар',
    'audit.status': 'Мәртебесі',
    'audit.reason': 'Негіздеме:',
    'audit.signers_of': '{n} (кворум {q})',
    'audit.status.applied': 'қолданылды',
    'audit.status.void': 'күшсіз',
    'audit.status.off_chain': 'тізбектен тыс',
    'audit.checkpoints': 'Бақылау нүктелерінің куәліктері',
    'audit.checkpoints_intro': 'Әр түйін қол қойған ең соңғы бақылау нүктесі: ол сақтаған журнал соңдары және оған белгілі басқару шешімдерінің саны.',
    'audit.no_checkpoints': 'Әзірге бақылау нүктесі жоқ.',
    'audit.heads': 'Журнал соңдары',
    'audit.gov_count': 'Белгілі шешімдер',
    'audit.checkpoint': 'Бақылау нүктесі',
    'audit.conflicts': 'Бақылау нүктелерінің қайшылықтары',
    'audit.conflict_by': '{member} бір-біріне қайшы екі бақылау нүктесіне қол қойды',
    'audit.first_cp': 'Бірінші бақылау нүктесі',
    'audit.second_cp': 'Екінші бақылау нүктесі',
    'audit.conflict.equivocation': 'Қос мәлімдеме: {author} журналының {seq} нөмірінде екі түрлі жазба аталған:',
    'audit.conflict.rollback': 'Кері шегіну: {author} журналы {from} нөмірінен {to} нөміріне қайтты',
    'audit.conflict.governance_rollback': 'Басқарудың кері шегінуі: түйін {from} басқару шешімін сақтаған, кейін {to} немесе басқа жиын',
    'audit.conflict.other': '{kind} түріндегі қайшылық',
  },
};

const TOPICS = {
  recruitment: ['Recruitment', 'Отбор и наём', 'Іріктеу және қабылдау'],
  'performance-management': ['Performance management', 'Управление результативностью', 'Нәтижелілікті басқару'],
  'ethics-integrity': ['Ethics and integrity', 'Этика и добросовестность', 'Әдеп және адалдық'],
  'e-government': ['E-government', 'Электронное правительство', 'Электрондық үкімет'],
  'service-delivery': ['Service delivery', 'Оказание услуг', 'Қызмет көрсету'],
  training: ['Training', 'Обучение', 'Оқыту'],
  pay: ['Pay', 'Оплата труда', 'Еңбекақы'],
  'legal-framework': ['Legal framework', 'Правовая база', 'Құқықтық негіз'],
  'anti-corruption': ['Anti-corruption', 'Противодействие коррупции', 'Сыбайлас жемқорлыққа қарсы іс-қимыл'],
  leadership: ['Leadership', 'Лидерство', 'Көшбасшылық'],
  'hr-management': ['HR management', 'Управление персоналом', 'Персоналды басқару'],
  'digital-skills': ['Digital skills', 'Цифровые навыки', 'Цифрлық дағдылар'],
  innovation: ['Innovation', 'Инновации', 'Инновациялар'],
  decentralisation: ['Decentralisation', 'Децентрализация', 'Орталықсыздандыру'],
  'gender-equality': ['Gender equality', 'Гендерное равенство', 'Гендерлік теңдік'],
  'public-administration-reform': ['Public administration reform', 'Реформа госуправления', 'Мемлекеттік басқару реформасы'],
};

/** The interface languages, with their own names. */
export const LANGS = [
  ['en', 'English'],
  ['ru', 'Русский'],
  ['kk', 'Қазақша'],
];

/** Every topic slug of the taxonomy (docs/PROTOCOL.md §1.4). */
export const TOPIC_SLUGS = Object.keys(TOPICS);

const STORAGE_KEY = 'hubnet.lang';
let current = initialLang();

function initialLang() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage may be off (privacy mode): the browser's language decides.
  }
  if (stored && STRINGS[stored]) return stored;
  const wanted = (navigator.languages && navigator.languages.length
    ? navigator.languages
    : [navigator.language || 'en']);
  for (const tag of wanted) {
    const primary = String(tag).toLowerCase().split('-')[0];
    if (STRINGS[primary]) return primary;
  }
  return 'en';
}

/** The interface language. */
export function getLang() {
  return current;
}

/** Sets (and remembers) the interface language. */
export function setLang(lang) {
  if (!STRINGS[lang]) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered; still applied for this page.
  }
  document.documentElement.lang = lang;
}

/** An interface string with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** A topic's name in the interface language (the slug itself if unknown). */
export function topicName(slug) {
  const names = TOPICS[slug];
  if (!names) return slug;
  return names[{ en: 0, ru: 1, kk: 2 }[current] ?? 0];
}

/**
 * The text of a localized map (`{lang: text}`) to show: the reader's language, else English,
 * else Russian, else the first there is. Returns `{text, lang}` or null when there is none.
 */
export function pickText(map, lang = current) {
  if (!map || typeof map !== 'object') return null;
  const keys = Object.keys(map).filter((k) => typeof map[k] === 'string' && map[k] !== '');
  if (keys.length === 0) return null;
  const primary = (k) => k.toLowerCase().split('-')[0];
  const want = [lang, 'en', 'ru'];
  for (const w of want) {
    const exact = keys.find((k) => k.toLowerCase() === w);
    if (exact) return { text: map[exact], lang: exact };
    const near = keys.find((k) => primary(k) === w);
    if (near) return { text: map[near], lang: near };
  }
  return { text: map[keys[0]], lang: keys[0] };
}

function displayNames(type) {
  try {
    return new Intl.DisplayNames([current], { type });
  } catch {
    return null;
  }
}

/** A language tag's name in the interface language (`ru` -> "Russian"). */
export function langName(tag) {
  try {
    const name = displayNames('language')?.of(tag);
    if (name && name !== tag) return name;
  } catch {
    // A tag Intl does not know: shown as it is.
  }
  return tag;
}

/** A country code's name (`KZ` -> "Kazakhstan"); null for codes Intl does not know. */
export function regionName(code) {
  if (!/^[A-Z]{2}$/.test(code || '')) return null;
  try {
    const name = displayNames('region')?.of(code);
    return name && name !== code ? name : null;
  } catch {
    return null;
  }
}

function locale() {
  return current === 'kk' ? ['kk', 'ru'] : [current];
}

function fmt(options, value) {
  try {
    return new Intl.DateTimeFormat(locale(), options).format(value);
  } catch {
    return new Date(value).toISOString();
  }
}

/** A date (from ms or an ISO string) like "23 Nov 2026". */
export function fmtDate(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value ?? '');
  return fmt({ year: 'numeric', month: 'short', day: 'numeric' }, d);
}

/** A date and time in the reader's zone, like "23 Nov 2026, 08:16". */
export function fmtDateTime(value, timeZone) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value ?? '');
  const options = {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  };
  if (timeZone) options.timeZone = timeZone;
  return fmt(options, d);
}

/** "February 2026" for year 2026, month 2. */
export function fmtMonth(year, month) {
  return fmt({ year: 'numeric', month: 'long', timeZone: 'UTC' }, Date.UTC(year, month - 1, 1));
}

/**
 * A local date-time "YYYY-MM-DDTHH:MM[:SS]" (or a date "YYYY-MM-DD") as written, formatted
 * without changing zone: the wall-clock time of the event's place.
 */
export function fmtLocal(local) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(local || '');
  if (!m) return String(local ?? '');
  const [, y, mo, d, hh, mi] = m;
  const utc = Date.UTC(+y, +mo - 1, +d, +(hh || 0), +(mi || 0));
  const options = { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' };
  if (hh !== undefined) {
    options.hour = '2-digit';
    options.minute = '2-digit';
    options.hourCycle = 'h23';
  }
  return fmt(options, utc);
}

/** A partial date "YYYY", "YYYY-MM" or "YYYY-MM-DD" for people. */
export function fmtPartial(date) {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(date || '');
  if (!m) return String(date ?? '');
  if (m[3]) return fmtLocal(date);
  if (m[2]) return fmt({ year: 'numeric', month: 'long', timeZone: 'UTC' }, Date.UTC(+m[1], +m[2] - 1, 1));
  return m[1];
}

/**
 * The UTC instant (ms) of a local date-time in an IANA zone, or null if the zone is unknown.
 * Intl gives zone offsets only for instants, so guess, measure the offset there and correct.
 */
export function zonedToUtc(local, timeZone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local || '');
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  let parts;
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return null;
  }
  const offsetAt = (instant) => {
    const p = Object.fromEntries(parts.formatToParts(instant).map((x) => [x.type, x.value]));
    const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return asUtc - instant;
  };
  let guess = wall - offsetAt(wall);
  guess = wall - offsetAt(guess);
  return guess;
}
