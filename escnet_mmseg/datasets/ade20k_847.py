"""ADE20K-Full (847 classes) evaluation set, "A-847".

The class list is the 847-category ADE20K-Full split used by the
open-vocabulary literature (MaskFormer's ``prepare_ade20k_full_sem_seg.py``,
CAT-Seg's ``datasets/ade847.json``), in train-id order. ``ADE20K_847_ADE_IDS``
holds, for every train id, the object index in the ADE20K 2021_17_01 release
(the value ``R // 10 * 256 + G`` of its ``*_seg.png`` files); the converter
``tools/dataset_converters/ade20k_847.py`` uses it.

Labels are 16-bit ``.tif`` files with values ``0..846`` and ``65535`` for
unlabelled pixels, so they must be loaded with ``LoadSegAnnotations16``.
"""
from mmseg.registry import DATASETS

from .base import TiffLabelSegDataset, make_palette
from .prompts import load_prompts

# Several names list WordNet synonyms ("person, individual, someone, ...").
# The text encoder reads the first one.
ADE20K_847_CLASSES = (
    'wall', 'building, edifice', 'sky', 'tree', 'road, route',
    'floor, flooring', 'ceiling', 'bed', 'sidewalk, pavement',
    'earth, ground', 'cabinet',
    'person, individual, someone, somebody, mortal, soul', 'grass',
    'windowpane, window', 'car, auto, automobile, machine, motorcar',
    'mountain, mount', 'plant, flora, plant life', 'table', 'chair',
    'curtain, drape, drapery, mantle, pall', 'door', 'sofa, couch, lounge',
    'sea', 'painting, picture', 'water', 'mirror', 'house',
    'rug, carpet, carpeting', 'shelf', 'armchair', 'fence, fencing', 'field',
    'lamp', 'rock, stone', 'seat', 'river', 'desk',
    'bathtub, bathing tub, bath, tub', 'railing, rail', 'signboard, sign',
    'cushion', 'path', 'work surface', 'stairs, steps', 'column, pillar',
    'sink', 'wardrobe, closet, press', 'snow', 'refrigerator, icebox',
    'base, pedestal, stand', 'bridge, span', 'blind, screen', 'runway',
    'cliff, drop, drop-off', 'sand', 'fireplace, hearth, open fireplace',
    'pillow', 'screen door, screen',
    'toilet, can, commode, crapper, pot, potty, stool, throne', 'skyscraper',
    'grandstand, covered stand', 'box',
    'pool table, billiard table, snooker table', 'palm, palm tree',
    'double door', 'coffee table, cocktail table', 'counter', 'countertop',
    'chest of drawers, chest, bureau, dresser', 'kitchen island', 'boat',
    'waterfall, falls',
    'stove, kitchen stove, range, kitchen range, cooking stove', 'flower',
    'bookcase', 'controls', 'book', 'stairway, staircase',
    'streetlight, street lamp',
    'computer, computing machine, computing device, data processor, '
    'electronic computer, information processing system',
    'bus, autobus, coach, charabanc, double-decker, jitney, motorbus, '
    'motorcoach, omnibus, passenger vehicle',
    'swivel chair', 'light, light source', 'bench',
    'case, display case, showcase, vitrine', 'towel', 'fountain',
    'embankment',
    'television receiver, television, television set, tv, tv set, idiot box, '
    'boob tube, telly, goggle box',
    'van', 'hill', 'awning, sunshade, sunblind',
    'poster, posting, placard, notice, bill, card', 'truck, motortruck',
    'airplane, aeroplane, plane', 'pole', 'tower', 'court', 'ball',
    'aircraft carrier, carrier, flattop, attack aircraft carrier',
    'buffet, counter, sideboard', 'hovel, hut, hutch, shack, shanty',
    'apparel, wearing apparel, dress, clothes', 'minibike, motorbike',
    'animal, animate being, beast, brute, creature, fauna',
    'chandelier, pendant, pendent', 'step, stair',
    'booth, cubicle, stall, kiosk', 'bicycle, bike, wheel, cycle',
    'doorframe, doorcase', 'sconce', 'pond',
    'trade name, brand name, brand, marque',
    'bannister, banister, balustrade, balusters, handrail', 'bag',
    'traffic light, traffic signal, stoplight', 'gazebo',
    'escalator, moving staircase, moving stairway', 'land, ground, soil',
    'board, plank', 'arcade machine', 'eiderdown, duvet, continental quilt',
    'bar', 'stall, stand, sales booth', 'playground', 'ship',
    'ottoman, pouf, pouffe, puff, hassock',
    'ashcan, trash can, garbage can, wastebin, ash bin, ash-bin, ashbin, '
    'dustbin, trash barrel, trash bin',
    'bottle', 'cradle', 'pot, flowerpot',
    'conveyer belt, conveyor belt, conveyer, conveyor, transporter',
    'train, railroad train', 'stool', 'lake', 'tank, storage tank',
    'ice, water ice', 'basket, handbasket', 'manhole',
    'tent, collapsible shelter', 'canopy', 'microwave, microwave oven',
    'barrel, cask', 'dirt track', 'beam',
    'dishwasher, dish washer, dishwashing machine', 'plate',
    'screen, crt screen', 'ruins',
    'washer, automatic washer, washing machine', 'blanket, cover',
    'plaything, toy', 'food, solid food',
    'screen, silver screen, projection screen', 'oven', 'stage',
    'beacon, lighthouse, beacon light, pharos', 'umbrella', 'sculpture',
    'aqueduct', 'container', 'scaffolding, staging', 'hood, exhaust hood',
    'curb, curbing, kerb', 'roller coaster', 'horse, equus caballus',
    'catwalk', 'glass, drinking glass', 'vase', 'central reservation',
    'carousel', 'radiator', 'closet', 'machine',
    'pier, wharf, wharfage, dock', 'fan', 'inflatable bounce game', 'pitch',
    'paper', 'arcade, colonnade', 'hot tub', 'helicopter', 'tray',
    'partition, divider', 'vineyard', 'bowl', 'bullring', 'flag', 'pot',
    'footbridge, overcrossing, pedestrian bridge', 'shower',
    'bag, traveling bag, travelling bag, grip, suitcase',
    'bulletin board, notice board', 'confessional booth',
    'trunk, tree trunk, bole', 'forest', 'elevator door',
    'laptop, laptop computer', 'instrument panel', 'bucket, pail',
    'tapestry, tapis', 'platform', 'jacket', 'gate',
    'monitor, monitoring device',
    'telephone booth, phone booth, call box, telephone box, telephone kiosk',
    'spotlight, spot', 'ring', 'control panel', 'blackboard, chalkboard',
    'air conditioner, air conditioning', 'chest', 'clock', 'sand dune',
    'pipe, pipage, piping', 'vault', 'table football', 'cannon',
    'swimming pool, swimming bath, natatorium',
    'fluorescent, fluorescent fixture', 'statue',
    'loudspeaker, speaker, speaker unit, loudspeaker system, speaker system',
    'exhibitor', 'ladder', 'carport', 'dam', 'pulpit', 'skylight, fanlight',
    'water tower', 'grill, grille, grillwork', 'display board',
    'pane, pane of glass, window glass', 'rubbish, trash, scrap', 'ice rink',
    'fruit', 'patio', 'vending machine', 'telephone, phone, telephone set',
    'net', 'backpack, back pack, knapsack, packsack, rucksack, haversack',
    'jar', 'track', 'magazine', 'shutter', 'roof', 'banner, streamer',
    'landfill', 'post', 'altarpiece, reredos', 'hat, chapeau, lid',
    'arch, archway', 'table game', 'bag, handbag, pocketbook, purse',
    'document, written document, papers', 'dome', 'pier', 'shanties',
    'forecourt', 'crane', 'dog, domestic dog, canis familiaris',
    'piano, pianoforte, forte-piano', 'drawing', 'cabin',
    'ad, advertisement, advertizement, advertising, advertizing, advert',
    'amphitheater, amphitheatre, coliseum', 'monument', 'henhouse',
    'cockpit', 'heater, warmer', 'windmill, aerogenerator, wind generator',
    'pool', 'elevator, lift', 'decoration, ornament, ornamentation',
    'labyrinth', 'text, textual matter', 'printer',
    'mezzanine, first balcony', 'mattress', 'straw', 'stalls',
    'patio, terrace', 'billboard, hoarding', 'bus stop', 'trouser, pant',
    'console table, console', 'rack', 'notebook', 'shrine', 'pantry', 'cart',
    'steam shovel', 'porch', 'postbox, mailbox, letter box',
    'figurine, statuette', 'recycling bin', 'folding screen', 'telescope',
    'deck chair, beach chair', 'kennel', 'coffee maker',
    "altar, communion table, lord's table", 'fish', 'easel',
    'artificial golf green', 'iceberg', 'candlestick, candle holder',
    'shower stall, shower bath', 'television stand',
    'wall socket, wall plug, electric outlet, electrical outlet, outlet, '
    'electric receptacle',
    'skeleton', 'grand piano, grand', 'candy, confect', 'grille door',
    'pedestal, plinth, footstall', 'jersey, t-shirt, tee shirt', 'shoe',
    'gravestone, headstone, tombstone', 'shanty', 'structure',
    'rocking chair, rocker', 'bird', 'place mat', 'tomb', 'big top',
    'gas pump, gasoline pump, petrol pump, island dispenser', 'lockers',
    'cage', 'finger', 'bleachers', 'ferris wheel', 'hairdresser chair', 'mat',
    'stands', 'aquarium, fish tank, marine museum',
    'streetcar, tram, tramcar, trolley, trolley car',
    'napkin, table napkin, serviette', 'dummy',
    'booklet, brochure, folder, leaflet, pamphlet', 'sand trap',
    'shop, store', 'table cloth', 'service station', 'coffin', 'drawer',
    'cages', 'slot machine, coin machine', 'balcony', 'volleyball court',
    'table tennis', 'control table', 'shirt', 'merchandise, ware, product',
    'railway', 'parterre', 'chimney', 'can, tin, tin can', 'tanks',
    'fabric, cloth, material, textile', 'alga, algae', 'system', 'map',
    'greenhouse', 'mug', 'barbecue', 'trailer',
    'toilet tissue, toilet paper, bathroom tissue', 'organ',
    'dishrag, dishcloth', 'island', 'keyboard', 'trench',
    'basket, basketball hoop, hoop', 'steering wheel, wheel',
    'pitcher, ewer', 'goal', 'bread, breadstuff, staff of life', 'beds',
    'wood', 'file cabinet', 'newspaper, paper', 'motorboat', 'rope',
    'guitar', 'rubble', 'scarf', 'barrels', 'cap', 'leaves', 'control tower',
    'dashboard', 'bandstand', 'lectern',
    'switch, electric switch, electrical switch',
    'baseboard, mopboard, skirting board', 'shower room', 'smoke',
    'faucet, spigot', 'bulldozer', 'saucepan', 'shops', 'meter', 'crevasse',
    'gear', 'candelabrum, candelabra', 'sofa bed', 'tunnel', 'pallet',
    'wire, conducting wire', 'kettle, boiler', 'bidet',
    'baby buggy, baby carriage, carriage, perambulator, pram, stroller, '
    'go-cart, pushchair, pusher',
    'music stand', 'pipe, tube', 'cup', 'parking meter', 'ice hockey rink',
    'shelter', 'weeds', 'temple', 'patty, cake', 'ski slope', 'panel',
    'wallet', 'wheel', 'towel rack, towel horse', 'roundabout',
    'canister, cannister, tin', 'rod', 'soap dispenser', 'bell', 'canvas',
    'box office, ticket office, ticket booth', 'teacup', 'trellis',
    'workbench', 'valley, vale', 'toaster', 'knife', 'podium', 'ramp',
    'tumble dryer', 'fireplug, fire hydrant, plug',
    'gym shoe, sneaker, tennis shoe', 'lab bench', 'equipment',
    'rocky formation', 'plastic', 'calendar', 'caravan', 'check-in-desk',
    'ticket counter', 'brush', 'mill', 'covered bridge', 'bowling alley',
    'hanger', 'excavator', 'trestle', 'revolving door', 'blast furnace',
    'scale, weighing machine', 'projector', 'soap', 'locker', 'tractor',
    'stretcher', 'frame', 'grating', 'alembic', 'candle, taper, wax light',
    'barrier', 'cardboard', 'cave', 'puddle', 'tarp', 'price tag',
    'watchtower', 'meters',
    'light bulb, lightbulb, bulb, incandescent lamp, electric light, '
    'electric-light bulb',
    'tracks', 'hair dryer', 'skirt', 'viaduct', 'paper towel', 'coat',
    'sheet', 'fire extinguisher, extinguisher, asphyxiator', 'water wheel',
    'pottery, clayware', 'magazine rack', 'teapot', 'microphone, mike',
    'support', 'forklift', 'canyon', 'cash register, register',
    'leaf, leafage, foliage', 'remote control, remote', 'soap dish',
    'windshield, windscreen', 'cat', 'cue, cue stick, pool cue, pool stick',
    'vent, venthole, vent-hole, blowhole', 'videos', 'shovel', 'eaves',
    'antenna, aerial, transmitting aerial', 'shipyard', 'hen, biddy',
    'traffic cone', 'washing machines', 'truck crane', 'cds', 'niche',
    'scoreboard', 'briefcase', 'boot', 'sweater, jumper', 'hay', 'pack',
    'bottle rack', 'glacier', 'pergola', 'building materials',
    'television camera', 'first floor', 'rifle', 'tennis table', 'stadium',
    'safety belt', 'cover', 'dish rack', 'synthesizer', 'pumpkin', 'gutter',
    'fruit stand', 'ice floe, floe', 'handle, grip, handgrip, hold',
    'wheelchair', 'mousepad, mouse mat', 'diploma', 'fairground ride',
    'radio', 'hotplate', 'junk', 'wheelbarrow', 'stream', 'toll plaza',
    'punching bag', 'trough', 'throne', 'chair desk', 'weighbridge',
    'extractor fan', 'hanging clothes',
    'dish, dish aerial, dish antenna, saucer', 'alarm clock, alarm',
    'ski lift', 'chain', 'garage', 'mechanical shovel', 'wine rack',
    'tramway', 'treadmill', 'menu', 'block', 'well', 'witness stand',
    'branch', 'duck', 'casserole', 'frying pan', 'desk organizer', 'mast',
    'spectacles, specs, eyeglasses, glasses', 'service elevator',
    'dollhouse', 'hammock', 'clothes hanging', 'photocopier', 'notepad',
    'golf cart', 'footpath', 'cross', 'baptismal font', 'boiler', 'skip',
    'rotisserie', 'tables', 'water mill', 'helmet', 'cover curtain', 'brick',
    'table runner', 'ashtray', 'street box', 'stick', 'hangers', 'cells',
    'urinal', 'centerpiece', 'portable fridge', 'dvds', 'golf club',
    'skirting board', 'water cooler', 'clipboard',
    'camera, photographic camera', 'pigeonhole', 'chips', 'food processor',
    'post box', 'lid', 'drum', 'blender', 'cave entrance', 'dental chair',
    'obelisk', 'canoe', 'mobile', 'monitors', 'pool ball', 'cue rack',
    'baggage carts', 'shore', 'fork', 'paper filer', 'bicycle rack',
    'coat rack', 'garland', 'sports bag', 'fish tank', 'towel dispenser',
    'carriage', 'brochure', 'plaque', 'stringer', 'iron', 'spoon',
    'flag pole', 'toilet brush', 'book stand',
    'water faucet, water tap, tap, hydrant', 'ticket office', 'broom', 'dvd',
    'ice bucket', 'carapace, shell, cuticle, shield', 'tureen', 'folders',
    'chess', 'root', 'sewing machine', 'model', 'pen', 'violin',
    'sweatshirt', 'recycling materials', 'mitten',
    'chopping board, cutting board', 'mask', 'log',
    'mouse, computer mouse', 'grill', 'hole', 'target', 'trash bag', 'chalk',
    'sticks', 'balloon', 'score', 'hair spray', 'roll', 'runner', 'engine',
    'inflatable glove', 'games', 'pallets', 'baskets', 'coop', 'dvd player',
    'rocking horse', 'buckets', 'bread rolls', 'shawl', 'watering can',
    'spotlights', 'post-it', 'bowls', 'security camera', 'runner cloth',
    'lock', 'alarm, warning device, alarm system', 'side', 'roulette',
    'bone', 'cutlery', 'pool balls', 'wheels', 'spice rack', 'plant pots',
    'towel ring', 'bread box', 'video', 'funfair', 'breads', 'tripod',
    'ironing board', 'skimmer', 'hollow', 'scratching post', 'tricycle',
    'file box', 'mountain pass', 'tombstones', 'cooker', 'card game, cards',
    'golf bag', 'towel paper', 'chaise lounge', 'sun',
    'toilet paper holder', 'rake', 'key', 'umbrella stand', 'dartboard',
    'transformer', 'fireplace utensils', 'sweatshirts',
    'cellular telephone, cellular phone, cellphone, cell, mobile phone',
    'tallboy', 'stapler', 'sauna', 'test tube', 'palette', 'shopping carts',
    'tools', 'push button, push, button', 'star', 'roof rack',
    'barbed wire', 'spray', 'ear', 'sponge', 'racket', 'tins', 'eyeglasses',
    'file', 'scarfs', 'sugar bowl', 'flip flop', 'headstones', 'laptop bag',
    'leash', 'climbing frame', 'suit hanger', 'floor spotlight',
    'plate rack', 'sewer', 'hard drive', 'sprinkler', 'tools box',
    'necklace', 'bulbs', 'steel industry', 'club', 'jack', 'door bars',
    'control panel, instrument panel, control board, board, panel',
    'hairbrush', 'napkin holder', 'office', 'smoke detector', 'utensils',
    'apron', 'scissors', 'terminal', 'grinder', 'entry phone',
    'newspaper stand', 'pepper shaker', 'onions',
    'central processing unit, cpu, c p u , central processor, processor, '
    'mainframe',
    'tape', 'bat', 'coaster', 'calculator', 'potatoes', 'luggage rack',
    'salt', 'street number', 'viewpoint', 'sword', 'cd', 'rowing machine',
    'plug', 'andiron, firedog, dog, dog-iron', 'pepper', 'tongs', 'bonfire',
    'dog dish', 'belt', 'dumbbells', 'videocassette recorder, vcr', 'hook',
    'envelopes', 'shower faucet', 'watch', 'padlock',
    'swimming pool ladder', 'spanners', 'gravy boat', 'notice board',
    'trash bags', 'fire alarm', 'ladle', 'stethoscope', 'rocket', 'funnel',
    'bowling pins', 'valve', 'thermometer', 'cups', 'spice jar',
    'night light', 'soaps', 'games table', 'slotted spoon', 'reel',
    'scourer', 'sleeping robe', 'desk mat', 'dumbbell', 'hammer', 'tie',
    'typewriter', 'shaker', 'cheese dish', 'sea star', 'racquet',
    'butane gas cylinder', 'paper weight', 'shaving brush', 'sunglasses',
    'gear shift', 'towel rail', 'adding machine, totalizer, totaliser')

# ADE20K 2021_17_01 object index of every train id (row k holds train ids
# 10k .. 10k+9).
ADE20K_847_ADE_IDS = (
    2978, 312, 2420, 2855, 2131, 976, 447, 165, 2377, 838,  # 0
    350, 1831, 1125, 3055, 401, 1610, 1910, 2684, 471, 687,  # 10
    774, 2473, 2264, 1735, 2994, 1564, 1276, 2178, 2329, 57,  # 20
    907, 913, 1395, 2138, 2272, 2128, 724, 155, 2053, 2380,  # 30
    689, 1788, 3087, 2530, 581, 2388, 2985, 2454, 2096, 137,  # 40
    294, 212, 2185, 524, 2212, 943, 1869, 2251, 2793, 2423,  # 50
    1121, 266, 1948, 1744, 783, 571, 627, 629, 491, 1374,  # 60
    223, 3016, 2598, 978, 239, 608, 236, 2531, 2616, 591,  # 70
    327, 2679, 1451, 181, 420, 2821, 1023, 855, 2733, 2928,  # 80
    1240, 77, 1969, 2880, 14, 1936, 2828, 631, 103, 3144,  # 90
    308, 1282, 38, 1563, 29, 480, 2569, 247, 187, 778,  # 100
    2243, 1941, 2833, 120, 95, 2836, 1087, 868, 1401, 220,  # 110
    47, 843, 123, 2537, 1927, 2337, 1702, 64, 249, 642,  # 120
    1981, 609, 2840, 2586, 1393, 2704, 1304, 146, 1494, 2739,  # 130
    389, 1551, 131, 738, 161, 747, 1919, 3109, 2179, 2989,  # 140
    206, 1930, 1002, 2254, 1708, 2526, 160, 2901, 2262, 44,  # 150
    597, 2235, 1260, 682, 2151, 3107, 432, 1098, 2932, 461,  # 160
    410, 2046, 533, 1481, 1858, 894, 1322, 1891, 1756, 49,  # 170
    1272, 1229, 2850, 1784, 2962, 259, 319, 954, 1974, 1013,  # 180
    2356, 97, 318, 592, 2885, 1017, 851, 1407, 1332, 303,  # 190
    2714, 1924, 1346, 1081, 1583, 2727, 2509, 2123, 602, 202,  # 200
    10, 490, 530, 2213, 1884, 2934, 2687, 387, 2668, 982,  # 210
    2547, 1474, 877, 1391, 414, 698, 2019, 2422, 3010, 1139,  # 220
    753, 1747, 2175, 1301, 1033, 1789, 2939, 2730, 1652, 90,  # 230
    1349, 2830, 1485, 2370, 2155, 118, 1402, 1957, 3130, 1197,  # 240
    52, 2688, 96, 762, 772, 1857, 2315, 1016, 643, 3105,  # 250
    1849, 791, 349, 6, 3114, 1587, 1233, 559, 1223, 3049,  # 260
    1943, 853, 709, 1390, 2748, 2007, 1546, 1513, 2600, 2538,  # 270
    1790, 194, 326, 2877, 594, 2036, 1662, 2366, 1754, 418,  # 280
    2553, 1951, 1963, 918, 2086, 997, 2731, 704, 1365, 569,  # 290
    3108, 948, 839, 63, 1305, 378, 2362, 2734, 2982, 2398,  # 300
    1119, 382, 1141, 1805, 3102, 2341, 1131, 2316, 2626, 3104,  # 310
    198, 1896, 2800, 190, 3131, 1463, 357, 929, 209, 912,  # 320
    1164, 1509, 2539, 3116, 2615, 1644, 818, 242, 2217, 2347,  # 330
    2686, 2300, 572, 789, 358, 2443, 101, 2969, 2692, 606,  # 340
    2339, 1533, 2060, 1782, 495, 371, 2707, 889, 3156, 2683,  # 350
    1499, 1135, 1619, 125, 2838, 2792, 1695, 746, 1343, 1370,  # 360
    2858, 145, 2565, 1892, 1103, 286, 170, 3073, 922, 1655,  # 370
    1602, 2160, 1151, 2176, 2239, 132, 394, 1424, 607, 700,  # 380
    116, 1425, 2676, 141, 2360, 2449, 897, 317, 2228, 2351,  # 390
    1543, 656, 1088, 373, 2472, 2892, 1740, 3067, 1367, 188,  # 400
    79, 1633, 1885, 677, 1779, 1297, 2334, 3027, 2735, 1791,  # 410
    2405, 1748, 2983, 3035, 2824, 2168, 385, 2148, 2465, 175,  # 420
    390, 268, 2722, 2857, 3088, 2926, 2782, 1378, 1934, 2072,  # 430
    2889, 944, 1158, 1383, 867, 2145, 1915, 361, 402, 482,  # 440
    2761, 300, 1554, 636, 260, 1186, 871, 2859, 2103, 208,  # 450
    2236, 2012, 2462, 1462, 2832, 2617, 1024, 1129, 18, 376,  # 460
    134, 407, 434, 2017, 2717, 2005, 2993, 1545, 1445, 2831,  # 470
    1161, 2411, 2949, 1769, 552, 2327, 939, 3013, 1986, 1486,  # 480
    2723, 1549, 2649, 1020, 392, 422, 1419, 2099, 2464, 3058,  # 490
    430, 675, 2941, 2955, 2355, 840, 32, 2338, 1232, 2834,  # 500
    2991, 2879, 444, 1657, 2246, 296, 245, 2661, 1202, 1714,  # 510
    251, 1095, 1828, 311, 2732, 947, 2115, 2738, 2525, 2194,  # 520
    634, 740, 2682, 2020, 1156, 1036, 1295, 1181, 3037, 1614,  # 530
    736, 893, 2047, 1274, 1361, 3036, 2606, 2797, 2022, 2876,  # 540
    2758, 472, 3028, 882, 1189, 743, 3122, 2401, 468, 1061,  # 550
    1523, 3059, 2843, 2853, 1529, 214, 3032, 3071, 277, 813,  # 560
    426, 1039, 727, 1508, 2490, 2299, 768, 1172, 537, 1847,  # 570
    1664, 1110, 1014, 662, 121, 227, 2410, 2165, 2696, 3005,  # 580
    1231, 635, 292, 2690, 65, 2607, 2574, 1188, 456, 2913,  # 590
    459, 1955, 827, 1111, 2412, 2997, 528, 366, 1863, 500,  # 600
    1001, 1958, 1441, 809, 210, 435, 718, 1674, 388, 1572,  # 610
    1584, 1944, 674, 99, 2352, 1019, 1763, 185, 554, 1066,  # 620
    2508, 951, 2822, 415, 297, 1914, 2619, 1338, 2505, 955,  # 630
    2786, 238, 3000, 2763, 299, 822, 1288, 3101, 2894, 992,  # 640
    489, 2157, 2309, 1576, 1810, 2964, 2662, 2087, 1569, 503,  # 650
    1505, 1468, 1613, 1138, 1256, 2715, 2846, 477, 2576, 108,  # 660
    2245, 1162, 2149, 2183, 858, 1324, 1055, 1741, 149, 615,  # 670
    825, 2143, 304, 283, 2322, 3017, 2510, 1960, 265, 2282,  # 680
    2184, 1461, 3113, 2372, 2166, 232, 693, 1945, 3039, 2494,  # 690
    1908, 2827, 280, 2950, 1044, 288, 2863, 1342, 2409, 1258,  # 700
    2249, 2862, 920, 1607, 2802, 610, 3129, 1108, 2823, 476,  # 710
    2641, 2788, 2070, 1368, 2903, 699, 2844, 942, 2663, 457,  # 720
    2701, 2540, 2231, 2746, 1738, 2350, 2808, 2025, 2541, 2156,  # 730
    126, 2512, 831, 2503, 2039, 2774, 886, 919, 2240, 2636,  # 740
    963, 1218, 1406, 1420, 526, 2639, 975, 1921, 2305, 1193,  # 750
    2517, 2809, 1647, 314, 2560, 545, 1345, 775, 603, 1163,  # 760
    1641, 1678, 2450, 2915, 42, 2242, 2741, 1143, 862, 1654,  # 770
    1826, 1689, 3124, 2710, 152, 549, 360, 1982, 1478, 2203,  # 780
    2612, 2956, 2681, 437, 2171, 1933, 3110, 1824, 2803, 234,  # 790
    764, 177, 817, 3145, 1262, 864, 2359, 2992, 1725, 2667,  # 800
    2484, 1133, 1667, 2847, 932, 1392, 2573, 2140, 1046, 264,  # 810
    2927, 2752, 679, 2493, 1658, 2466, 1057, 2444, 2093, 2248,  # 820
    2432, 726, 816, 1171, 2766, 2900, 2313, 488, 2265, 2043,  # 830
    332, 1771, 2320, 2646, 1089, 2826, 3148,  # 840
)

assert len(ADE20K_847_CLASSES) == 847, len(ADE20K_847_CLASSES)
assert len(ADE20K_847_ADE_IDS) == 847, len(ADE20K_847_ADE_IDS)


@DATASETS.register_module()
class ADE20K847Dataset(TiffLabelSegDataset):
    """ADE20K-Full validation set with 847 classes (A-847).

    Layout (written by ``tools/dataset_converters/ade20k_847.py``)::

        data/ADE20K_2021_17_01/
            images_detectron2/validation/ADE_val_00000001.jpg
            annotations_detectron2/validation/ADE_val_00000001.tif

    Label files are 16-bit TIFFs: ``0..846`` are classes, ``65535`` marks
    unlabelled pixels (``ignore_index``).
    """
    METAINFO = dict(
        classes=ADE20K_847_CLASSES,
        palette=make_palette(len(ADE20K_847_CLASSES), seed=847),
        prompts=load_prompts('ade847'))
